import Foundation
import Testing

@testable import JobstreamMessages

@Suite("The sync history reader that skips JSONDecoder")
struct SyncHistoryEntryReaderTests {
    /// SplitMix64, so a failing round can be replayed from its seed.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// `original` with one to three random edits: a byte replaced, removed or inserted from
        /// `alphabet`, or (with `repeatingStretches`) a stretch repeated — a key twice, a value doubled.
        mutating func mutated(_ original: [UInt8], alphabet: [UInt8], repeatingStretches: Bool = true) -> [UInt8] {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &self) {
                let at = Int.random(in: 0..<bytes.count, using: &self)
                switch Int.random(in: 0..<(repeatingStretches ? 4 : 3), using: &self) {
                case 0: bytes[at] = alphabet.randomElement(using: &self)!
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(alphabet.randomElement(using: &self)!, at: at)
                default:
                    let end = min(bytes.count, at + Int.random(in: 1...24, using: &self))
                    bytes.insert(contentsOf: bytes[at..<end], at: end)
                }
                if bytes.isEmpty { bytes = original }
            }
            return bytes
        }
    }

    static let reasons = ["", "row lock", "ümlaut – dash", "a \"quoted\" word", "back\\slash", "tab\there", "path/to/x"]

    static func randomEntry(_ random: inout Seeded) -> (SyncHistoryEntry, String, Date) {
        func date() -> Date? {
            Bool.random(using: &random)
                ? nil : Date(timeIntervalSince1970: Double(Int.random(in: 0..<4_000_000_000_000, using: &random)) / 1000)
        }
        func count() -> Int {
            Bool.random(using: &random)
                ? Int.random(in: 0..<10, using: &random) : Int.random(in: 0..<Int(Int32.max), using: &random)
        }
        let entry = SyncHistoryEntry(
            operation: SyncOperation.allCases.randomElement(using: &random)!,
            status: SyncSessionStatus.allCases.randomElement(using: &random)!, startedAt: date(), finishedAt: date(),
            recordsExpected: Bool.random(using: &random) ? nil : count(), recordsSynced: count(), recordsFailed: count(),
            recordsToRetry: count(), recordsNeedingFix: count(), crmIdChanges: count(),
            failure: Bool.random(using: &random) ? nil : SyncSystemFailure.allCases.randomElement(using: &random),
            failureReason: Bool.random(using: &random) ? nil : reasons.randomElement(using: &random))
        let id = ["sess-\(Int.random(in: 0..<1_000_000, using: &random))", "sessión-ü", "with \"quote\"", "s/1"]
            .randomElement(using: &random)!
        return (entry, id, date() ?? Date(timeIntervalSince1970: 1_795_000_000.123))
    }

    /// Whether two decodings say the same.
    static func same(_ a: AnyEnvelope, _ b: AnyEnvelope) -> Bool {
        a.type == b.type && a.version == b.version && a.jobId == b.jobId && a.time == b.time
            && a.payload(as: SyncHistoryEntry.self) != nil
            && a.payload(as: SyncHistoryEntry.self) == b.payload(as: SyncHistoryEntry.self)
    }

    @Test("what the services write it reads as JSONDecoder does; it leaves escaped text to JSONDecoder")
    func readsWhatIsWritten() throws {
        var random = Seeded(state: 19)
        var read = 0
        for _ in 0..<3_000 {
            let (entry, id, time) = Self.randomEntry(&random)
            let bytes = try MessageCodec.encode(entry, jobId: id, time: time)
            let general = try MessageCodec.decodeWithJSONDecoder(bytes[...])
            let escaped = bytes.contains(UInt8(ascii: "\\"))
            if let fast = SyncHistoryEntryReader.envelope(bytes[...]) {
                #expect(Self.same(fast, general), "\(String(decoding: bytes, as: UTF8.self))")
                read += 1
            } else {
                #expect(escaped, "not read: \(String(decoding: bytes, as: UTF8.self))")
            }
            #expect(Self.same(try MessageCodec.decode(bytes), general))
        }
        #expect(read > 1_000)
    }

    @Test("whatever bytes it is given, it reads nothing JSONDecoder refuses, and nothing otherwise")
    func mutations() throws {
        var random = Seeded(state: 7)
        let alphabet = Array(#"0123456789-.eE+"\ ,:{}[]nultrfa/"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        var accepted = 0
        for _ in 0..<600 {
            let (entry, id, time) = Self.randomEntry(&random)
            let original = try MessageCodec.encode(entry, jobId: id, time: time)
            for _ in 0..<25 {
                let bytes = random.mutated(original, alphabet: alphabet)
                guard let fast = SyncHistoryEntryReader.envelope(bytes[...]) else { continue }
                accepted += 1
                let general = try? MessageCodec.decodeWithJSONDecoder(bytes[...])
                #expect(general.map { Self.same(fast, $0) } == true, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        // Some mutations keep the message readable (a changed digit, a changed letter in text): 242 of
        // these 15,000 when it was written.
        #expect(accepted > 100)
    }

    @Test(
        "a null optional reads as an absent one; a repeated or unknown key, a fraction, an escape or another type go to JSONDecoder"
    )
    func handWritten() throws {
        let base =
            #"{"jobId":"s-1","payload":{"crmIdChanges":0,"operation":"Manual","recordsFailed":1,"recordsNeedingFix":0,"recordsSynced":2,"recordsToRetry":1,"status":"Running"PLUS},"time":"2026-11-22T10:00:00.000Z","type":"sync.history","version":"1.0"}"#
        func bytes(_ plus: String) -> [UInt8] { Array(base.replacingOccurrences(of: "PLUS", with: plus).utf8) }
        let plain = try #require(SyncHistoryEntryReader.envelope(bytes("")[...]))
        #expect(plain.payload(as: SyncHistoryEntry.self)?.recordsSynced == 2)
        let nulls = try #require(
            SyncHistoryEntryReader.envelope(bytes(#","startedAt":null,"failure":null,"recordsExpected":null"#)[...]))
        #expect(Self.same(nulls, plain))
        for other in [
            #","status":"Finished""#, #","unknown":1"#, #","recordsExpected":1.0"#, #","recordsExpected":1e2"#,
            #","recordsExpected":01"#, #","recordsExpected":-0"#, #","failureReason":"a\nb""#, #", "failureReason":"x""#,
            #","startedAt":"yesterday""#, #","failure":"Gremlins""#,
            // More digits than an Int holds: refused before they overflow (the fuzzer found the trap).
            #","recordsExpected":1234567890123456789"#, #","recordsExpected":99999999999999999999999"#,
            #","recordsExpected":-99999999999999999999999"#,
        ] {
            #expect(SyncHistoryEntryReader.envelope(bytes(other)[...]) == nil, "\(other)")
        }
        let escaped = bytes(#","failureReason":"a\u0041""#)
        #expect(SyncHistoryEntryReader.envelope(escaped[...]) == nil)
        #expect(try MessageCodec.decode(escaped).payload(as: SyncHistoryEntry.self)?.failureReason == "aA")
        let started = Array(base.replacingOccurrences(of: "sync.history", with: "sync.session-started").utf8)
        #expect(SyncHistoryEntryReader.envelope(started[...]) == nil)
    }
}
