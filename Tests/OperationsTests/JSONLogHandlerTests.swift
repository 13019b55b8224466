import Foundation
import Logging
import Synchronization
import Testing

@testable import JobstreamService

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test("one JSON object per line with the message, level and the metadata under their own keys")
    func oneObjectPerLine() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "jobstream.test") { label in
            JSONLogHandler(label: label, write: { line in lines.withLock { $0.append(line) } })
        }
        logger.logLevel = .info
        logger[metadataKey: "job.id"] = "BF-1"
        logger.info(
            "chunk applied",
            metadata: [
                "kafka.topic": "jobstream.backfill.chunks", "kafka.partition": "3",
                "kafka.offset": "42",
            ])
        logger.debug("not written at info")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        #expect(!written[0].contains("\n"))
        let object = try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any]
        #expect(object?["message"] as? String == "chunk applied")
        #expect(object?["level"] as? String == "info")
        #expect(object?["label"] as? String == "jobstream.test")
        #expect(object?["job.id"] as? String == "BF-1")
        #expect(object?["kafka.offset"] as? String == "42")
        #expect((object?["time"] as? String)?.hasSuffix("Z") == true)
    }
}
