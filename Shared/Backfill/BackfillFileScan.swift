import Foundation
import JobstreamCSV
import JobstreamFiles
import JobstreamMessages

/// A backfill file whose header fits its action and whose rows have been checked.
public struct ValidatedFile: Sendable {
    public let csvURL: URL
    public let validator: RowValidator
    public let duplicates: DuplicateKeyFinder
    /// Data rows in the file.
    public let rowCount: Int
    /// The bounds the file was read with.
    public let limits: CSVReader.Limits

    /// Walks every data row in file order with its fields only, checking nothing: for the result and
    /// preview files, whose outcomes come from the ledger (checking each row again took a third of
    /// writing a result file).
    public func forEachRecord(_ body: (_ rowNumber: Int, _ fields: [String]) async throws -> Void) async throws {
        let reader = try CSVReader(url: csvURL, limits: limits)
        guard try reader.next() != nil else { return }
        var rowNumber = 0
        while let record = try reader.next() {
            rowNumber += 1
            if rowNumber % 4096 == 0 { await Task.yield() }
            try await body(rowNumber, record.fields)
        }
    }

    /// Walks every data row in file order with its fields and its verdict (duplicates included).
    public func forEachRow(
        _ body: (_ rowNumber: Int, _ fields: [String], _ verdict: Result<BackfillRow, RowProblem>) async throws -> Void
    ) async throws {
        try await forEachRecord { rowNumber, fields in
            var verdict = validator.validate(fields, rowNumber: rowNumber)
            if case .success = verdict, let key = validator.key(of: fields),
                let problem = duplicates.duplicateProblem(for: key, columnName: validator.action.keyColumn?.name ?? "key")
            {
                verdict = .failure(RowProblem(problem, isDuplicateKey: true))
            }
            try await body(rowNumber, fields, verdict)
        }
    }
}

/// Checks a backfill file in two streaming passes: the first reads every row (format, header,
/// values) and notes possible duplicate keys; the second, only when needed, confirms them.
public enum BackfillFileScan {
    /// - Parameters:
    ///   - refuse: receives refused rows with their reasons, in batches, in row order per pass.
    ///   - isCanceled: polled between rows; when true the scan stops with `CancellationError`.
    ///   - progress: told every few thousand rows of the first pass how many rows and bytes it has read.
    public static func validate(
        csvURL: URL, fileName: String, action: BackfillAction, limits: CSVReader.Limits = .standard,
        refuse: ([(row: Int, error: String)]) async throws -> Void,
        isCanceled: @Sendable () -> Bool,
        progress: (_ rows: Int, _ bytes: Int) -> Void = { _, _ in }
    ) async throws -> ValidatedFile {
        let size = UploadedFile.size(of: csvURL) ?? 0
        guard size > 0 else { throw FileProblem("\(fileName) is empty (0 bytes)") }
        var refused: [(row: Int, error: String)] = []
        var duplicates = DuplicateKeyFinder(expectedKeys: try CSVReader.countLineEnds(url: csvURL))
        let validator: RowValidator
        var rowCount = 0
        do {
            let reader = try CSVReader(url: csvURL, limits: limits)
            guard let header = try reader.next() else { throw FileProblem("\(fileName) has no header line") }
            validator = try RowValidator(action: action, header: header.fields)
            while let record = try reader.next() {
                rowCount += 1
                if rowCount % 4096 == 0 {
                    if isCanceled() { throw CancellationError() }
                    progress(rowCount, reader.bytesRead)
                    await Task.yield()  // a long scan leaves room for the job's keeper (its claim's renewals)
                }
                if let problem = validator.problem(of: record.fields) {
                    refused.append((rowCount, problem.description))
                    if refused.count >= 1000 {
                        try await refuse(refused)
                        refused.removeAll(keepingCapacity: true)
                    }
                }
                if let key = validator.key(of: record.fields) { duplicates.add(key) }
            }
        } catch let error as CSVFormatError {
            throw FileProblem("\(fileName) is not a valid CSV file: \(error)")
        }
        progress(rowCount, Int(size))
        try await refuse(refused)
        refused.removeAll()
        guard rowCount > 0 else { throw FileProblem("\(fileName) has a header but no rows") }

        if duplicates.hasCandidates {
            let reader = try CSVReader(url: csvURL, limits: limits)
            _ = try reader.next()
            var rowNumber = 0
            while let record = try reader.next() {
                rowNumber += 1
                if rowNumber % 4096 == 0 { await Task.yield() }
                if let key = validator.key(of: record.fields) { duplicates.count(key, row: rowNumber) }
            }
        }
        let file = ValidatedFile(csvURL: csvURL, validator: validator, duplicates: duplicates, rowCount: rowCount, limits: limits)
        if duplicates.hasCandidates {
            // Record the rows refused only for their duplicated key (a row refused for another
            // reason in the first pass keeps that reason).
            try await file.forEachRow { rowNumber, _, verdict in
                if case .failure(let problem) = verdict, problem.isDuplicateKey {
                    refused.append((rowNumber, problem.description))
                    if refused.count >= 1000 {
                        try await refuse(refused)
                        refused.removeAll(keepingCapacity: true)
                    }
                }
            }
            try await refuse(refused)
        }
        return file
    }
}
