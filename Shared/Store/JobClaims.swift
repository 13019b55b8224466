import SQLKit

/// The claim of a job table's rows (`owner`, `lease_until`): renewing, letting go and taking over.
/// The backfill log and the migration log keep their jobs' claims the same way.
struct JobClaims: Sendable {
    let table: String
    let idColumn: String
    /// The statuses of jobs that have not ended.
    let activeStatuses: [String]
    /// The columns a renewal returns.
    let columns: String

    /// Extends `owner`'s claim and returns the row as it is now, or nil if `owner` lost it.
    func renew<Row: Decodable>(_ id: String, owner: String, leaseUntil: Int, as: Row.Type,
                               in database: any SQLDatabase) async throws -> Row? {
        try await database.raw("""
            UPDATE \(ident: table) SET lease_until = \(bind: leaseUntil)
            WHERE \(ident: idColumn) = \(bind: id) AND owner = \(bind: owner)
            RETURNING \(unsafeRaw: columns)
            """).first(decoding: Row.self, keyDecodingStrategy: .convertFromSnakeCase)
    }

    /// Gives up a claim so another instance can take the job over at once.
    func release(_ id: String, owner: String, in database: any SQLDatabase) async throws {
        try await database.raw("""
            UPDATE \(ident: table) SET lease_until = 0 WHERE \(ident: idColumn) = \(bind: id) AND owner = \(bind: owner)
            """).run()
    }

    /// Claims every unfinished job whose claim has lapsed; returns their ids.
    func claimOrphans(owner: String, now: Int, leaseUntil: Int, in database: any SQLDatabase) async throws -> [String] {
        try await database.raw("""
            UPDATE \(ident: table) SET owner = \(bind: owner), lease_until = \(bind: leaseUntil)
            WHERE status IN (\(binds: activeStatuses)) AND lease_until < \(bind: now)
            RETURNING \(ident: idColumn)
            """).all().map { try $0.decode(column: idColumn, as: String.self) }
    }
}
