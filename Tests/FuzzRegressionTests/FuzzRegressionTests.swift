import Foundation
import JobstreamFuzzTargets
import Testing

/// Every input the fuzzers were seeded with or found a failure on (`Tests/Fuzz/corpus`,
/// `Tests/Fuzz/regressions`) still passes the fuzzers' checks.
@Suite("Saved fuzz inputs")
struct FuzzRegressionTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ target: String) -> [URL] {
        ["corpus", "regressions"].flatMap { folder in
            let url = fuzz.appendingPathComponent(folder).appendingPathComponent(target)
            return ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
                .filter { !$0.hasPrefix(".") }.sorted().map { url.appendingPathComponent($0) }
        }
    }

    @Test("CSV inputs read the same whatever the buffer, within their limits")
    func csv() throws {
        let inputs = Self.inputs("csv")
        #expect(inputs.count >= 5, "the CSV corpus is missing")
        for input in inputs { FuzzTargets.csv([UInt8](try Data(contentsOf: input))) }
    }

    @Test("envelope inputs decode to bounded messages that encode back the same, or are refused briefly")
    func envelope() throws {
        let inputs = Self.inputs("envelope")
        #expect(inputs.count >= 5, "the envelope corpus is missing")
        for input in inputs { FuzzTargets.envelope([UInt8](try Data(contentsOf: input))) }
    }
}
