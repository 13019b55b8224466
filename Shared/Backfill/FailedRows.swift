import Foundation
import JobstreamCSV
import JobstreamFiles

/// Picks the failed rows out of a result file, for a retry.
public enum FailedRows {
    /// Writes the rows of `result` whose `Success` is `false` to `destination`, with the original
    /// columns only (without `Success` and `Error Message`, and with any fields a row had beyond the
    /// header, which the result file keeps after those two). Returns how many rows it wrote.
    public static func extract(fromResult result: URL, to destination: URL) throws -> Int {
        let reader = try CSVReader(url: result, limits: .ownFiles)
        guard let header = try reader.next(), header.fields.suffix(2) == ["Success", "Error Message"] else {
            throw FileProblem("\(result.lastPathComponent) is not a backfill result file (no Success and Error Message columns)")
        }
        let width = header.fields.count - 2
        let writer = try CSVWriter(url: destination)
        try writer.write(Array(header.fields.prefix(width)))
        var written = 0
        while let record = try reader.next() {
            guard record.fields.count >= width + 2, record.fields[width] == "false" else { continue }
            try writer.write(Array(record.fields.prefix(width)) + record.fields.dropFirst(width + 2))
            written += 1
        }
        try writer.close()
        return written
    }
}
