import SQLKit

/// A claim on a job: the instance holding it and the epoch it was taken at. The epoch grows by one on
/// every takeover, so a claim is a fencing token: every write an owner makes is conditional on its
/// claim still being the job's, and an owner that was paused past its lease (while another took the
/// job over, or even itself again) finds its writes refused.
public struct JobClaim: Sendable, Hashable, CustomStringConvertible {
    public let owner: String
    public let epoch: Int

    public init(owner: String, epoch: Int) {
        self.owner = owner
        self.epoch = epoch
    }

    public var description: String { "\(owner)#\(epoch)" }
}

/// What a look for lapsed claims found: the jobs claimed now, and those given up on because they were
/// taken over too many times in a row without progress (ended as failed, saying why).
public struct ClaimedOrphans: Sendable, Hashable {
    public var claimed: [String] = []
    public var givenUp: [String] = []
}

/// The claim columns of a job table (`owner`, `epoch`, `lease_until`, `takeovers`) and the status
/// outbox columns (`sequence`, `published_sequence`): renewing, letting go, taking over, and
/// finding events not yet published. The backfill log and the migration log keep their jobs the same way.
///
/// Leases are reckoned by the database's clock, never an instance's, so instances whose clocks
/// disagree still agree on when a claim lapsed.
package struct JobClaims: Sendable {
    package let table: String
    package let idColumn: String
    /// The statuses of jobs that have not ended.
    package let activeStatuses: [String]
    /// The columns a renewal returns.
    package let columns: String
    /// The status, the end-time column, and the reason of a job given up on after too many takeovers.
    package let givenUpStatus: String
    package let endColumn: String

    package init(
        table: String, idColumn: String, activeStatuses: [String], columns: String, givenUpStatus: String,
        endColumn: String
    ) {
        self.table = table
        self.idColumn = idColumn
        self.activeStatuses = activeStatuses
        self.columns = columns
        self.givenUpStatus = givenUpStatus
        self.endColumn = endColumn
    }

    /// The database's clock, in epoch milliseconds.
    package static func now(_ flavor: SQLFlavor) -> SQLQueryString {
        switch flavor {
        case .sqlite: "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
        case .postgres: "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
        }
    }

    /// The condition that `claim` is still the job's.
    package func held(_ id: String, by claim: JobClaim) -> SQLQueryString {
        "\(ident: idColumn) = \(bind: id) AND owner = \(bind: claim.owner) AND epoch = \(bind: claim.epoch)"
    }

    /// Extends the claim to `lease` from now and returns the row as it is now, or nil if the claim is lost.
    package func renew<Row: Decodable>(
        _ id: String, claim: JobClaim, leaseMilliseconds: Int, as: Row.Type,
        flavor: SQLFlavor, in database: any SQLDatabase
    ) async throws -> Row? {
        try await database.raw(
            """
            UPDATE \(ident: table) SET lease_until = \(Self.now(flavor)) + \(bind: leaseMilliseconds)
            WHERE \(held(id, by: claim)) RETURNING \(unsafeRaw: columns)
            """
        ).first(decoding: Row.self, keyDecodingStrategy: .convertFromSnakeCase)
    }

    /// Gives up a claim so another instance can take the job over at once. The takeover that follows
    /// a deliberate release (a graceful shutdown) is not one that counts against the job.
    package func release(_ id: String, claim: JobClaim, in database: any SQLDatabase) async throws {
        try await database.raw(
            """
            UPDATE \(ident: table) SET lease_until = 0, takeovers = CASE WHEN takeovers > 0 THEN takeovers - 1 ELSE 0 END
            WHERE \(held(id, by: claim))
            """
        ).run()
    }

    /// Claims every unfinished job whose claim has lapsed, taking a new epoch; a job already taken
    /// over `maxTakeovers` times in a row without progress is ended as ``givenUpStatus`` instead.
    package func claimOrphans(
        owner: String, leaseMilliseconds: Int, maxTakeovers: Int, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> ClaimedOrphans {
        let now = Self.now(flavor)
        let lapsed: SQLQueryString = "status IN (\(binds: activeStatuses)) AND lease_until < \(now)"
        let reason = """
            the job was taken over \(maxTakeovers) times in a row without progress: every instance that held it stopped \
            before it could move on (killed, out of memory, or cut off from the database); see the instances' logs
            """
        var found = ClaimedOrphans()
        found.givenUp = try await database.raw(
            """
            UPDATE \(ident: table) SET status = \(bind: givenUpStatus), error = \(bind: reason), \(ident: endColumn) = \(now),
                owner = \(bind: owner), epoch = epoch + 1, lease_until = 0, sequence = sequence + 1, updated_at = \(now)
            WHERE \(lapsed) AND takeovers >= \(bind: maxTakeovers) RETURNING \(ident: idColumn)
            """
        ).all().map { try $0.decode(column: idColumn, as: String.self) }
        found.claimed = try await database.raw(
            """
            UPDATE \(ident: table) SET owner = \(bind: owner), epoch = epoch + 1, lease_until = \(now) + \(bind: leaseMilliseconds),
                takeovers = takeovers + 1
            WHERE \(lapsed) RETURNING \(ident: idColumn)
            """
        ).all().map { try $0.decode(column: idColumn, as: String.self) }
        return found
    }

    /// Notes that the event of `sequence` is on the status topic (a later one may be already).
    package func published(_ id: String, sequence: Int, in database: any SQLDatabase) async throws {
        try await database.raw(
            """
            UPDATE \(ident: table) SET published_sequence = \(bind: sequence)
            WHERE \(ident: idColumn) = \(bind: id) AND published_sequence < \(bind: sequence)
            """
        ).run()
    }

    /// Rows whose latest state is not on the status topic yet and that have not changed for
    /// `quietMilliseconds` (their owner is not about to publish them).
    package func unpublished<Row: Decodable>(
        quietMilliseconds: Int, limit: Int, as: Row.Type, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> [Row] {
        try await database.raw(
            """
            SELECT \(unsafeRaw: columns) FROM \(ident: table)
            WHERE published_sequence < sequence AND updated_at < \(Self.now(flavor)) - \(bind: quietMilliseconds)
            ORDER BY updated_at LIMIT \(bind: limit)
            """
        ).all(decoding: Row.self, keyDecodingStrategy: .convertFromSnakeCase)
    }
}
