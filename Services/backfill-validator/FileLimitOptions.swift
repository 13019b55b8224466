import ArgumentParser
import JobstreamBackfill
import JobstreamCSV
import JobstreamFiles
import JobstreamService

/// The validator's settings for the bounds of uploaded files (``FileLimits``).
struct FileLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-field-bytes"), help: "The longest field of an uploaded CSV, in bytes.")
    var fieldBytes: Int = Settings.value("max-field-bytes", default: CSVReader.Limits.standard.fieldBytes)

    @Option(name: .customLong("max-fields"), help: "The most fields of a row (and columns of the header).")
    var fields: Int = Settings.value("max-fields", default: CSVReader.Limits.standard.fieldsPerRecord)

    @Option(
        name: .customLong("max-record-bytes"),
        help: "The longest row, in bytes (a row spans lines when a quoted field holds line breaks).")
    var recordBytes: Int = Settings.value("max-record-bytes", default: CSVReader.Limits.standard.recordBytes)

    @Option(name: .customLong("max-file-bytes"), help: "The largest uploaded file (.csv or .zip), in bytes.")
    var fileBytes: Int64 = Settings.value("max-file-bytes", default: FileLimits.standard.fileBytes)

    @Option(name: .customLong("max-unpacked-bytes"), help: "The largest .csv inside a zip once unpacked, in bytes.")
    var unpackedBytes: Int64 = Settings.value("max-unpacked-bytes", default: FileLimits.standard.unpackedBytes)

    @Option(name: .customLong("max-zip-ratio"), help: "How many times its packed size the .csv in a zip may unpack to.")
    var zipRatio: Int64 = Settings.value("max-zip-ratio", default: FileLimits.standard.compressionRatio)

    @Option(name: .customLong("unpack-timeout"), help: "The longest unpacking of a zip may take, in seconds.")
    var unpackTimeout: Int = Settings.value("unpack-timeout", default: 900)

    func validate() throws {
        guard (256...(256 << 20)).contains(fieldBytes) else {
            throw ValidationError("--max-field-bytes must be between 256 and 268435456")
        }
        guard (2...100_000).contains(fields) else { throw ValidationError("--max-fields must be between 2 and 100000") }
        guard recordBytes >= fieldBytes, recordBytes <= 1 << 30 else {
            throw ValidationError("--max-record-bytes must be at least --max-field-bytes and at most 1073741824")
        }
        guard fileBytes > 0, unpackedBytes > 0 else {
            throw ValidationError("--max-file-bytes and --max-unpacked-bytes must be positive")
        }
        guard zipRatio >= 1 else { throw ValidationError("--max-zip-ratio must be 1 or more") }
        guard (1...86_400).contains(unpackTimeout) else {
            throw ValidationError("--unpack-timeout must be between 1 and 86400 seconds")
        }
    }

    var limits: FileLimits {
        FileLimits(
            csv: CSVReader.Limits(fieldBytes: fieldBytes, fieldsPerRecord: fields, recordBytes: recordBytes),
            fileBytes: fileBytes, unpackedBytes: unpackedBytes, compressionRatio: zipRatio,
            unpackTime: .seconds(unpackTimeout))
    }
}
