/// Reads a query's rows page by page, each page after the position of the last row of the one before
/// (keyset paging), so that memory holds one page whatever the total: CSV files of every warning or
/// failed record, written by the CLI and downloaded from the dashboard.
public enum KeysetPaging {
    /// Hands each non-empty page to `body`, in order; returns how many rows there were.
    @discardableResult
    public static func forEachPage<Row, Position>(
        pageSize: Int, position: (Row) -> Position,
        page: (_ after: Position?, _ limit: Int) async throws -> [Row],
        _ body: ([Row]) async throws -> Void
    ) async throws -> Int {
        var after: Position?
        var count = 0
        while true {
            let rows = try await page(after, pageSize)
            if !rows.isEmpty { try await body(rows) }
            count += rows.count
            guard let last = rows.last, rows.count == pageSize else { return count }
            after = position(last)
        }
    }
}
