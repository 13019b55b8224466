import SQLKit

/// The tables, created when a store is opened (a table that exists is left as it is).
///
/// Records carry a `version` that every change increments, as billing systems do for optimistic
/// locking; it also makes "applied exactly once" checkable.
///
/// Dates are ISO `YYYY-MM-DD` text and amounts exact decimal text, so both databases store exactly
/// what the user wrote; instants are epoch milliseconds.
enum StoreSchema {
    static let statements: [String] = [
        // The system of record being backfilled.
        """
        CREATE TABLE IF NOT EXISTS rate_plan_charges (
            id TEXT PRIMARY KEY,
            charge_number TEXT NOT NULL,
            subscription_number TEXT NOT NULL,
            created_on TEXT NOT NULL,
            booking_date TEXT,
            accounting_code TEXT,
            revenue_recognition_rule TEXT,
            amount TEXT NOT NULL,
            service_start_date TEXT,
            service_end_date TEXT,
            version BIGINT NOT NULL DEFAULT 1
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS invoice_items (
            id TEXT PRIMARY KEY,
            charge_id TEXT NOT NULL,
            accounting_code TEXT,
            revenue_start_date TEXT,
            revenue_end_date TEXT,
            amount TEXT NOT NULL,
            version BIGINT NOT NULL DEFAULT 1
        )
        """,
        // The backfill log: one row per job, the durable copy of what the status topic announces.
        """
        CREATE TABLE IF NOT EXISTS backfill_jobs (
            job_id TEXT PRIMARY KEY,
            action TEXT NOT NULL,
            uploaded_file TEXT,
            file_path TEXT,
            file_size BIGINT,
            md5 TEXT,
            generated_by TEXT NOT NULL,
            retry_of TEXT,
            retried_by TEXT,
            status TEXT NOT NULL,
            submitted_at BIGINT NOT NULL,
            start_date BIGINT,
            end_date BIGINT,
            records_total BIGINT,
            records_processed BIGINT NOT NULL DEFAULT 0,
            records_failed BIGINT NOT NULL DEFAULT 0,
            chunk_count BIGINT,
            chunk_size BIGINT NOT NULL,
            error TEXT,
            result_path TEXT,
            cancel_requested_by TEXT,
            owner TEXT,
            lease_until BIGINT NOT NULL DEFAULT 0,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS backfill_jobs_active ON backfill_jobs (status, lease_until)",
        // Chunks a processor applied: the idempotency record and the durable outcome of each row.
        """
        CREATE TABLE IF NOT EXISTS backfill_chunks (
            job_id TEXT NOT NULL,
            chunk_index BIGINT NOT NULL,
            first_row BIGINT NOT NULL,
            last_row BIGINT NOT NULL,
            row_count BIGINT NOT NULL,
            failed_count BIGINT NOT NULL,
            failures TEXT NOT NULL,
            applied_at BIGINT NOT NULL,
            PRIMARY KEY (job_id, chunk_index)
        )
        """,
        // Rows the validator refused, with why; they are never sent to a processor.
        """
        CREATE TABLE IF NOT EXISTS backfill_row_errors (
            job_id TEXT NOT NULL,
            row_number BIGINT NOT NULL,
            error TEXT NOT NULL,
            PRIMARY KEY (job_id, row_number)
        )
        """,
    ]

    static func create(in store: Store) async throws {
        try await store.transaction { database in
            if store.flavor == .postgres {
                // Two processes starting at once must not both create a table.
                try await database.raw("SELECT pg_advisory_xact_lock(7031988)").run()
            }
            for statement in statements {
                try await database.raw(SQLQueryString(statement)).run()
            }
        }
    }
}
