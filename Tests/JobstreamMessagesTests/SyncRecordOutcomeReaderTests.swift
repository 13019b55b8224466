import Foundation
import Testing

@testable import JobstreamMessages

@Suite("The record outcome reader that skips JSONDecoder")
struct SyncRecordOutcomeReaderTests {
    typealias Seeded = SyncHistoryEntryReaderTests.Seeded

    /// Identifiers (no control characters, as their bounds require) and free text.
    static let identifiers = ["", "UNABLE_TO_LOCK_ROW", "ümlaut–dash", "a \"quoted\" id", "back\\slash", "a/b"]
    static let texts = identifiers + ["tab\there", "two\nlines"]

    static func randomOutcome(_ random: inout Seeded) -> (SyncRecordOutcome, String) {
        func text() -> String? { Bool.random(using: &random) ? nil : identifiers.randomElement(using: &random) }
        let outcome = SyncRecordOutcome(
            objectType: ["Account", "Subscription", "Invoice", "Kontö"].randomElement(using: &random)!,
            objectId: "A-\(Int.random(in: 0..<1_000_000, using: &random))", crmId: text(),
            success: Bool.random(using: &random), errorCode: text(),
            errorMessage: Bool.random(using: &random) ? nil : texts.randomElement(using: &random),
            retryable: Bool.random(using: &random),
            crmIdChange: Bool.random(using: &random)
                ? nil : CrmIdChange(previousCrmId: text() ?? "001A", newCrmId: text() ?? "001B"))
        return (
            outcome, ["sess-\(Int.random(in: 0..<1_000, using: &random))", "sessión-ü", "s/1"].randomElement(using: &random)!
        )
    }

    /// Whether two decodings say the same.
    static func same(_ a: AnyEnvelope, _ b: AnyEnvelope) -> Bool {
        a.type == b.type && a.version == b.version && a.jobId == b.jobId && a.time == b.time
            && a.payload(as: SyncRecordOutcome.self) != nil
            && a.payload(as: SyncRecordOutcome.self) == b.payload(as: SyncRecordOutcome.self)
    }

    @Test("what the services write it reads as JSONDecoder does; it leaves escaped text to JSONDecoder")
    func readsWhatIsWritten() throws {
        var random = Seeded(state: 23)
        var read = 0
        for _ in 0..<3_000 {
            let (outcome, id) = Self.randomOutcome(&random)
            let bytes = try MessageCodec.encode(outcome, jobId: id, time: Date(timeIntervalSince1970: 1_795_000_000.125))
            let general = try MessageCodec.decodeWithJSONDecoder(bytes[...])
            if let fast = SyncRecordOutcomeReader.envelope(bytes[...]) {
                #expect(Self.same(fast, general), "\(String(decoding: bytes, as: UTF8.self))")
                read += 1
            } else {
                #expect(bytes.contains(UInt8(ascii: "\\")), "not read: \(String(decoding: bytes, as: UTF8.self))")
            }
            #expect(Self.same(try MessageCodec.decode(bytes), general))
        }
        #expect(read > 500)
    }

    @Test("whatever bytes it is given, it reads nothing JSONDecoder refuses, and nothing otherwise")
    func mutations() throws {
        var random = Seeded(state: 11)
        let alphabet = Array(#"0123456789-.eE+"\ ,:{}[]nultrfas/"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        var accepted = 0
        for _ in 0..<600 {
            let (outcome, id) = Self.randomOutcome(&random)
            let original = try MessageCodec.encode(outcome, jobId: id)
            for _ in 0..<25 {
                let bytes = random.mutated(original, alphabet: alphabet)
                guard let fast = SyncRecordOutcomeReader.envelope(bytes[...]) else { continue }
                accepted += 1
                let general = try? MessageCodec.decodeWithJSONDecoder(bytes[...])
                #expect(general.map { Self.same(fast, $0) } == true, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(accepted > 100)
    }

    @Test(
        "a null optional reads as an absent one; a repeated or unknown key, a string for a flag, an escape or another type go to JSONDecoder"
    )
    func handWritten() throws {
        let base =
            #"{"jobId":"s-1","payload":{"objectId":"A-1","objectType":"Account","retryable":falsePLUS,"success":true},"time":"2026-11-22T10:00:00.000Z","type":"sync.record-outcome","version":"1.0"}"#
        func bytes(_ plus: String) -> [UInt8] { Array(base.replacingOccurrences(of: "PLUS", with: plus).utf8) }
        let plain = try #require(SyncRecordOutcomeReader.envelope(bytes("")[...]))
        #expect(
            plain.payload(as: SyncRecordOutcome.self) == SyncRecordOutcome(objectType: "Account", objectId: "A-1", success: true))
        let nulls = try #require(
            SyncRecordOutcomeReader.envelope(bytes(#","crmId":null,"crmIdChange":null,"errorCode":null"#)[...]))
        #expect(Self.same(nulls, plain))
        let change = try #require(
            SyncRecordOutcomeReader.envelope(bytes(#","crmIdChange":{"newCrmId":"001B","previousCrmId":"001A"}"#)[...]))
        #expect(change.payload(as: SyncRecordOutcome.self)?.crmIdChange == CrmIdChange(previousCrmId: "001A", newCrmId: "001B"))
        for other in [
            #","success":false"#, #","unknown":1"#, #","crmId":1"#, #","crmIdChange":{"newCrmId":"001B"}"#,
            #","crmIdChange":{"newCrmId":"1","previousCrmId":"2","x":"3"}"#, #","crmIdChange":{}"#,
            #","errorMessage":"a\nb""#, #", "errorCode":"x""#, #","crmId":nul"#, #","crmId":nulls"#,
        ] {
            #expect(SyncRecordOutcomeReader.envelope(bytes(other)[...]) == nil, "\(other)")
        }
        #expect(
            SyncRecordOutcomeReader.envelope(Array(base.replacingOccurrences(of: "falsePLUS", with: "\"false\"").utf8)[...])
                == nil)
        #expect(
            SyncRecordOutcomeReader.envelope(Array(base.replacingOccurrences(of: "falsePLUS", with: "fals").utf8)[...]) == nil)
        let escaped = bytes(#","errorMessage":"a\u0041""#)
        #expect(SyncRecordOutcomeReader.envelope(escaped[...]) == nil)
        #expect(try MessageCodec.decode(escaped).payload(as: SyncRecordOutcome.self)?.errorMessage == "aA")
        let other = Array(base.replacingOccurrences(of: "sync.record-outcome", with: "sync.history").utf8)
        #expect(PlainEnvelopeReader.envelope(other[...]) == nil)
    }
}
