import Foundation
import JobstreamCSV
import JobstreamStore

/// Writes a revert's result file: one line per row of the reverted job that changed a record, in row
/// order — `Row` (the row of the reverted job's file; for a file-less job, the record's position),
/// the record's key, `Success` and `Error Message` (why it was not put back). Paged like
/// ``ResultFileWriter``, so memory stays flat for any size.
public struct RevertResultWriter: Sendable {
    public let images: BeforeImages
    public let ledger: BackfillLedger
    /// The revert, and the job it puts back.
    public let jobId: String
    public let original: String

    public init(store: Store, jobId: String, original: String) {
        images = BeforeImages(store: store)
        ledger = BackfillLedger(store: store)
        self.jobId = jobId
        self.original = original
    }

    /// Writes the result to `url`; returns how many rows were put back and how many not.
    public func write(keyName: String, to url: URL) async throws -> (succeeded: Int, failed: Int) {
        let writer = try CSVWriter(url: url)
        try writer.write(["Row", keyName, "Success", "Error Message"])
        var chunks = PagedCursor<BackfillLedger.Chunk>(position: \.index, start: -1) { after in
            try await ledger.chunks(jobId, after: after, limit: 16)
        }
        var succeeded = 0, failed = 0
        var after = 0
        while true {
            let page = try await images.images(original, after: after, limit: 5000)
            guard let last = page.last else { break }
            for image in page {
                while let chunk = try await chunks.current(), chunk.lastRow < image.rowNumber { try await chunks.advance() }
                let error: String?
                if let chunk = try await chunks.current(), chunk.firstRow <= image.rowNumber {
                    error = chunk.failures[image.rowNumber]
                } else {
                    error = ResultFileWriter.notProcessed
                }
                if error == nil { succeeded += 1 } else { failed += 1 }
                try writer.write([String(image.rowNumber), image.recordId, error == nil ? "true" : "false", error ?? ""])
            }
            after = last.rowNumber
        }
        try writer.close()
        return (succeeded, failed)
    }
}
