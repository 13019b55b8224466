import Foundation
import Testing

@testable import JobstreamMessages

@Suite("The string array reader that skips JSONDecoder")
struct StringArrayReaderTests {
    typealias Seeded = SyncHistoryEntryReaderTests.Seeded

    static let values: [String?] = [
        nil, "", "2025-01-15", "ACC-1", "4200-Services", "ümlaut – dash", "a \"quoted\" word",
        "back\\slash", "tab\there", "a/b", "12.50",
    ]

    static func randomValues(_ random: inout Seeded) -> [String?] {
        (0..<Int.random(in: 0...4, using: &random)).map { _ in values.randomElement(using: &random)! }
    }

    /// The text as SQLite's `json_array` writes it (no spaces) or PostgreSQL's `json_build_array` (", ").
    static func text(_ values: [String?], spaced: Bool) throws -> String {
        let compact = String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
        guard spaced else { return compact }
        let parts = try values.map { value in
            String(decoding: try JSONEncoder().encode([value]), as: UTF8.self).dropFirst().dropLast()
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    static func general(_ text: String) -> [String?]? {
        try? JSONDecoder().decode([String?].self, from: Data(text.utf8))
    }

    @Test("what the stores write it reads as JSONDecoder does; it leaves escaped text to JSONDecoder")
    func readsWhatIsWritten() throws {
        var random = Seeded(state: 5)
        var read = 0
        for round in 0..<3_000 {
            let values = Self.randomValues(&random)
            let text = try Self.text(values, spaced: round % 2 == 0)
            #expect(Self.general(text) == values, "\(text)")
            if let fast = StringArrayReader.read(text) {
                #expect(fast == values, "\(text)")
                read += 1
            } else {
                #expect(text.contains("\\"), "not read: \(text)")
            }
        }
        #expect(read > 1_000)
    }

    @Test("whatever text it is given, it reads nothing JSONDecoder refuses, and nothing otherwise")
    func mutations() throws {
        var random = Seeded(state: 17)
        let alphabet = Array(#"0123456789-"\ ,[]{}:nulrtfa"#.utf8) + [0x09, 0x0A, 0x00, 0x1F, 0xC3, 0xA9, 0xFF]
        var accepted = 0
        for round in 0..<800 {
            let original = Array(try Self.text(Self.randomValues(&random), spaced: round % 2 == 0).utf8)
            for _ in 0..<20 {
                let bytes = random.mutated(original, alphabet: alphabet, repeatingStretches: false)
                // Text from the database is valid UTF-8; a String repairs what is not, as the driver would.
                let text = String(decoding: bytes, as: UTF8.self)
                guard let fast = StringArrayReader.read(text) else { continue }
                accepted += 1
                #expect(Self.general(text) == fast, "\(text)")
            }
        }
        #expect(accepted > 1_000)
    }

    @Test(
        "it reads plain arrays with any JSON whitespace",
        arguments: [
            ("[]", []), (" [ ] ", []), ("[null]", [nil]), (#"["a",null,"b"]"#, ["a", nil, "b"]),
            ("[ \"a\" ,\tnull ,\"ü\" ]", ["a", nil, "ü"]), ("[\n\"x\"\r\n]", ["x"]), (#"[""]"#, [""]),
        ] as [(String, [String?])])
    func readsPlainArrays(text: String, expected: [String?]) {
        #expect(StringArrayReader.read(text) == expected)
        #expect(Self.general(text) == expected)
    }

    @Test(
        "it gives up at anything else",
        arguments: [
            "", "[", "]", #"["a""#, #"["a",]"#, "[,]", #"[null,]"#, "[nul]", "[nulls]", "[1]", "[true]", #"[["a"]]"#,
            #"{"a":"b"}"#, #""a""#, #"["a"] x"#, #"["a"]]"#, #"["a\"b"]"#, #"["a\u0041"]"#, "[\"tab\there\"]", #"["a" "b"]"#,
            "null",
        ])
    func givesUp(text: String) {
        #expect(StringArrayReader.read(text) == nil)
    }
}
