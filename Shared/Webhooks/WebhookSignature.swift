import Crypto
import Foundation

/// The signature of a webhook's body, as payment platforms sign theirs: the header
/// `Jobstream-Signature: t=UNIX_SECONDS,v1=HEX` where HEX is the HMAC-SHA256, keyed by the shared
/// secret, of `UNIX_SECONDS` + `.` + the body's bytes. A receiver computes the same and compares in
/// constant time, and refuses a timestamp too far from its clock (a replayed delivery).
public enum WebhookSignature {
    public static let header = "Jobstream-Signature"

    /// The header's value for `body` sent at `timestamp` (seconds since 1970).
    public static func value(secret: String, timestamp: Int, body: [UInt8]) -> String {
        "t=\(timestamp),v1=\(hmac(secret: secret, timestamp: timestamp, body: body))"
    }

    static func hmac(secret: String, timestamp: Int, body: [UInt8]) -> String {
        var signed = Array("\(timestamp).".utf8)
        signed.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `value` signs `body` with `secret`, within `tolerance` seconds of `now`.
    public static func verify(
        _ value: String, secret: String, body: [UInt8], now: Int, tolerance: Int = 300
    ) -> Bool {
        var timestamp: Int?
        var signatures: [String] = []
        for part in value.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) }
            if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, abs(now - timestamp) <= tolerance else { return false }
        let expected = Array(hmac(secret: secret, timestamp: timestamp, body: body).utf8)
        return signatures.contains { candidate in
            let given = Array(candidate.utf8)
            guard given.count == expected.count else { return false }
            return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }
    }
}
