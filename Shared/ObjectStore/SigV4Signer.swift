import Crypto
import Foundation

/// Signs HTTP requests with AWS Signature Version 4, as S3 and the S3-compatible stores (MinIO,
/// Ceph, SeaweedFS) check them: a canonical request (method, path, sorted query, signed headers,
/// payload hash) hashed into a string to sign, signed with a key derived from the secret, the date,
/// the region and the service. Tested against AWS's published examples.
public struct SigV4Signer: Sendable {
    /// An access key and its secret (and a session token for temporary credentials).
    public struct Credentials: Sendable, Equatable {
        public var accessKey: String
        public var secretKey: String
        public var sessionToken: String?

        public init(accessKey: String, secretKey: String, sessionToken: String? = nil) {
            self.accessKey = accessKey
            self.secretKey = secretKey
            self.sessionToken = sessionToken
        }
    }

    public let credentials: Credentials
    public let region: String
    public let service: String

    public init(credentials: Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The SHA-256 of an empty payload, and the marker of a payload left unsigned.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    public static func amzDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// The headers an S3 request carries once signed: `x-amz-date`, `x-amz-content-sha256` (and
    /// `x-amz-security-token`) added to `headers`, then `Authorization` over all of them and `host`.
    public func signS3(
        method: String, host: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
        payloadHash: String, date: Date
    ) -> [(String, String)] {
        var all = headers + [("x-amz-date", Self.amzDate(date)), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken { all.append(("x-amz-security-token", token)) }
        let authorization = self.authorization(
            method: method, path: path, query: query, headers: all + [("host", host)], payloadHash: payloadHash, date: date)
        return all + [("Authorization", authorization)]
    }

    /// The `Authorization` value for a request whose headers (with `host` and `x-amz-date`) are all signed.
    public func authorization(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String, date: Date
    ) -> String {
        let (canonical, signedHeaders) = Self.canonicalRequest(
            method: method, path: path, query: query, headers: headers, payloadHash: payloadHash)
        let stamp = Self.amzDate(date)
        let day = String(stamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))]
            .joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        return
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKey)/\(scope),SignedHeaders=\(signedHeaders),Signature=\(signature)"
    }

    /// The canonical request and its signed headers' names.
    static func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String
    ) -> (String, String) {
        let segments: [String] = path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }
        let canonicalPath = path.isEmpty ? "/" : segments.joined(separator: "/")
        let encoded: [(name: String, value: String)] = query.map { (uriEncode($0.0), uriEncode($0.1)) }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        var byName: [String: [String]] = [:]
        for (name, value) in headers {
            let trimmed = value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true)
                .joined(separator: " ")
            byName[name.lowercased(), default: []].append(trimmed)
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonical = [method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// Percent-encodes every byte but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - _ . ~`).
    public static func uriEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
