/// Reads a JSON array of strings and nulls — `["2025-01-15", null, "ACC-1"]`, as the stores'
/// `json_array` / `json_build_array` write a record's values — without `JSONDecoder`, which cost the
/// preview file a third of its time. It gives up (nil) at anything else: an escape, a control
/// character, text that is not UTF-8, a number, a nested value, anything after the closing bracket.
/// Callers then ask `JSONDecoder`, so what it reads is always what `JSONDecoder` would read.
public enum StringArrayReader {
    public static func read(_ text: String) -> [String?]? {
        var scanner = FlatJSONScanner(bytes: Array(text.utf8)[...])
        guard let values = scanner.stringsOrNulls(), scanner.isAtEnd else { return nil }
        return values
    }
}
