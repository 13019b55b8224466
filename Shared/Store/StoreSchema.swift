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
        // The chunks the validator sent, by fingerprint: a processor applies only a chunk planned here.
        """
        CREATE TABLE IF NOT EXISTS backfill_chunk_plan (
            job_id TEXT NOT NULL,
            chunk_index BIGINT NOT NULL,
            digest TEXT NOT NULL,
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
        // Before-images: for each row a backfill applied, the record's values of the columns the
        // action can set as they were before (`before`, a JSON array, null for NULL), which of them the
        // row set (`changed`, one '1' or '0' per column), and the version the row left the record at.
        // Written in the transaction that applied the row; a revert puts the changed values back.
        """
        CREATE TABLE IF NOT EXISTS backfill_before_images (
            job_id TEXT NOT NULL,
            row_number BIGINT NOT NULL,
            record_id TEXT NOT NULL,
            changed TEXT NOT NULL,
            before TEXT NOT NULL,
            version_after BIGINT NOT NULL,
            PRIMARY KEY (job_id, row_number)
        )
        """,
        // A backfill's failure brake (`max_failed` as written, `500` or `2.5%`; NULL: off) and the rows
        // with an outcome so far, kept by the processors in each chunk's transaction; `tripped` says
        // why it stopped the job once it did. Only jobs with a brake have a row.
        """
        CREATE TABLE IF NOT EXISTS backfill_brakes (
            job_id TEXT PRIMARY KEY,
            max_failed TEXT,
            rows_done BIGINT NOT NULL,
            rows_failed BIGINT NOT NULL,
            tripped TEXT
        )
        """,
        // A preview's rows: for each valid row whose record exists, the record's current values of the
        // columns the action can set (`current_values`, a JSON array as in before-images), the version they were
        // read at (an apply of the preview refuses a row whose record has moved past it), and whether
        // the row would change anything (`would_change`, 1 or 0). Written by processors in read-only chunks.
        """
        CREATE TABLE IF NOT EXISTS backfill_preview_rows (
            job_id TEXT NOT NULL,
            row_number BIGINT NOT NULL,
            record_id TEXT NOT NULL,
            current_values TEXT NOT NULL,
            version_read BIGINT NOT NULL,
            would_change SMALLINT NOT NULL,
            PRIMARY KEY (job_id, row_number)
        )
        """,
        // Which job left a record at a version: who changed a record since a job being reverted.
        "CREATE INDEX IF NOT EXISTS backfill_before_images_record ON backfill_before_images (record_id, version_after)",
        // The migration log: one row per migration, the durable copy of what the status topic announces.
        """
        CREATE TABLE IF NOT EXISTS migrations (
            migration_id TEXT PRIMARY KEY,
            cutover_date TEXT NOT NULL,
            generated_by TEXT NOT NULL,
            status TEXT NOT NULL,
            submitted_at BIGINT NOT NULL,
            start_time BIGINT,
            end_time BIGINT,
            progress BIGINT NOT NULL DEFAULT 0,
            slice_size BIGINT NOT NULL,
            slice_count BIGINT,
            charges_in_scope BIGINT,
            schedules_generated BIGINT NOT NULL DEFAULT 0,
            warnings BIGINT NOT NULL DEFAULT 0,
            error TEXT,
            owner TEXT,
            lease_until BIGINT NOT NULL DEFAULT 0,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS migrations_active ON migrations (status, lease_until)",
        // A migration's plan: ranges of charge ids (after, through], each done once by some runner.
        """
        CREATE TABLE IF NOT EXISTS migration_slices (
            migration_id TEXT NOT NULL,
            slice_index BIGINT NOT NULL,
            after_charge TEXT,
            through_charge TEXT,
            planned_charges BIGINT NOT NULL,
            done_at BIGINT,
            charges BIGINT,
            schedules BIGINT,
            warnings BIGINT,
            applied_by TEXT,
            PRIMARY KEY (migration_id, slice_index)
        )
        """,
        // Charges a migration could not generate revenue for, and why.
        """
        CREATE TABLE IF NOT EXISTS migration_warnings (
            migration_id TEXT NOT NULL,
            charge_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (migration_id, charge_id)
        )
        """,
        // The revenue side: one schedule per charge and cutover date; a re-run replaces it and
        // increments its version. `lines` is JSON: [[start, end, amount, recognized], …].
        """
        CREATE TABLE IF NOT EXISTS revenue_schedules (
            cutover_date TEXT NOT NULL,
            charge_id TEXT NOT NULL,
            migration_id TEXT NOT NULL,
            recognition_rule TEXT NOT NULL,
            accounting_code TEXT NOT NULL,
            amount TEXT NOT NULL,
            recognized_amount TEXT NOT NULL,
            open_amount TEXT NOT NULL,
            service_start_date TEXT NOT NULL,
            service_end_date TEXT NOT NULL,
            lines TEXT NOT NULL,
            version BIGINT NOT NULL DEFAULT 1,
            generated_at BIGINT NOT NULL,
            PRIMARY KEY (cutover_date, charge_id)
        )
        """,
        // The sync history: one row per session, whatever order its events came in. `status` is
        // derived from the other columns (SyncSessionFacts). `summary_pending` and `retry_pending`
        // are an outbox: set in the transaction that changed the session, cleared once the summary or
        // retry request is on its topic, so a crash in between publishes it later instead of never.
        """
        CREATE TABLE IF NOT EXISTS sync_sessions (
            session_id TEXT PRIMARY KEY,
            operation TEXT,
            started_at BIGINT,
            finish_reported_at BIGINT,
            records_expected BIGINT,
            failed_at BIGINT,
            failure_kind TEXT,
            failure_reason TEXT,
            status TEXT NOT NULL,
            finished_at BIGINT,
            records_synced BIGINT NOT NULL DEFAULT 0,
            records_failed BIGINT NOT NULL DEFAULT 0,
            records_to_retry BIGINT NOT NULL DEFAULT 0,
            crm_id_changes BIGINT NOT NULL DEFAULT 0,
            version BIGINT NOT NULL DEFAULT 1,
            summary_pending SMALLINT NOT NULL DEFAULT 0,
            retry_pending SMALLINT NOT NULL DEFAULT 0,
            changed_at BIGINT NOT NULL
        )
        """,
        // Newest first, with or without an operation filter (the Sync History list).
        "CREATE INDEX IF NOT EXISTS sync_sessions_started ON sync_sessions (started_at)",
        "CREATE INDEX IF NOT EXISTS sync_sessions_operation_started ON sync_sessions (operation, started_at)",
        // Retention: finished 30 days ago or more; never finished and untouched as long.
        "CREATE INDEX IF NOT EXISTS sync_sessions_finished ON sync_sessions (finished_at)",
        "CREATE INDEX IF NOT EXISTS sync_sessions_changed ON sync_sessions (changed_at)",
        "CREATE INDEX IF NOT EXISTS sync_sessions_summary_pending ON sync_sessions (changed_at) WHERE summary_pending = 1",
        "CREATE INDEX IF NOT EXISTS sync_sessions_retry_pending ON sync_sessions (changed_at) WHERE retry_pending = 1",
        // Every record outcome of a session, once each; a repeated outcome is a duplicate event.
        """
        CREATE TABLE IF NOT EXISTS sync_records (
            session_id TEXT NOT NULL,
            object_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            success SMALLINT NOT NULL,
            crm_id TEXT,
            error_code TEXT,
            error_message TEXT,
            retryable SMALLINT NOT NULL,
            PRIMARY KEY (session_id, object_type, object_id)
        )
        """,
        // The CRM Id Change Results, detail rows of their session: retention deletes them with it.
        """
        CREATE TABLE IF NOT EXISTS sync_crm_id_changes (
            session_id TEXT NOT NULL,
            object_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            previous_crm_id TEXT NOT NULL,
            new_crm_id TEXT NOT NULL,
            PRIMARY KEY (session_id, object_type, object_id)
        )
        """,
        // The audit trail: every action asked of the dashboard and its API, taken or refused.
        """
        CREATE TABLE IF NOT EXISTS audit_events (
            event_id TEXT PRIMARY KEY,
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            target_kind TEXT NOT NULL,
            target_id TEXT,
            outcome TEXT NOT NULL,
            detail TEXT,
            source TEXT
        )
        """,
        // Webhooks: the addresses a job's end is sent to besides the deployment's, and each delivery
        // owed (one per job, event and address), with its attempts.
        """
        CREATE TABLE IF NOT EXISTS webhook_subscriptions (
            job_id TEXT NOT NULL,
            url TEXT NOT NULL,
            PRIMARY KEY (job_id, url)
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS webhook_deliveries (
            job_id TEXT NOT NULL,
            event_key TEXT NOT NULL,
            url TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            claimed_until BIGINT NOT NULL DEFAULT 0,
            last_status BIGINT,
            last_error TEXT,
            delivered_at BIGINT,
            gave_up_at BIGINT,
            PRIMARY KEY (job_id, event_key, url)
        )
        """,
        "CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL",
        "CREATE INDEX IF NOT EXISTS audit_events_by_time ON audit_events (at, event_id)",
        "CREATE INDEX IF NOT EXISTS audit_events_by_target ON audit_events (target_id, at)",
    ]

    /// Columns added after the tables were first released: added to a table that lacks them.
    /// `epoch` fences a job's owner (it grows on every takeover), `takeovers` counts takeovers since the
    /// job last moved on, `sequence` numbers the job's states (its status events carry it) and
    /// `published_sequence` is the newest one on the status topic (an outbox: what is behind is
    /// published again).
    /// `reverts` names the job a revert puts back, `reverted_by` the revert of a job, and
    /// `overwrite_changed` lets a revert put back records changed since. `max_failed` is the failure
    /// brake asked for, `pause_requested_by` who asked to pause, `pause_reason` why the job is Paused,
    /// `rate_limit` the rows per second it may apply; `rows_validated` and `bytes_validated` how far
    /// validation has read, `rows_per_second` and `estimated_end` how fast it is applied and when it
    /// should end. `preview` marks a dry run, `would_change` and `already_as_asked` its counts;
    /// `applies` names the preview an apply job applies, `applied_by` the apply of a preview,
    /// `approved_by` who approved it, and `file_digest` the SHA-256 of the upload a preview read. A
    /// migration's `preview` marks one that writes no schedule. `before_images_removed` is when a
    /// retention removed a job's before-images. `notified_sequence` is the newest state whose webhooks
    /// are owed (``WebhookOutbox``).
    static let addedColumns: [(table: String, column: String, definition: String)] =
        ["backfill_jobs", "migrations"]
        .flatMap { table in
            [
                (table, "epoch", "BIGINT NOT NULL DEFAULT 1"), (table, "takeovers", "BIGINT NOT NULL DEFAULT 0"),
                (table, "sequence", "BIGINT NOT NULL DEFAULT 1"), (table, "published_sequence", "BIGINT NOT NULL DEFAULT 0"),
            ]
        } + [
            ("backfill_jobs", "reverts", "TEXT"), ("backfill_jobs", "reverted_by", "TEXT"),
            ("backfill_jobs", "overwrite_changed", "SMALLINT NOT NULL DEFAULT 0"),
            ("backfill_jobs", "max_failed", "TEXT"), ("backfill_jobs", "pause_requested_by", "TEXT"),
            ("backfill_jobs", "pause_reason", "TEXT"), ("backfill_jobs", "rate_limit", "BIGINT"),
            ("backfill_jobs", "rows_validated", "BIGINT"), ("backfill_jobs", "bytes_validated", "BIGINT"),
            ("backfill_jobs", "rows_per_second", "BIGINT"), ("backfill_jobs", "estimated_end", "BIGINT"),
            ("backfill_jobs", "preview", "SMALLINT NOT NULL DEFAULT 0"), ("backfill_jobs", "would_change", "BIGINT"),
            ("backfill_jobs", "already_as_asked", "BIGINT"), ("backfill_jobs", "applies", "TEXT"),
            ("backfill_jobs", "applied_by", "TEXT"), ("backfill_jobs", "approved_by", "TEXT"),
            ("backfill_jobs", "file_digest", "TEXT"), ("migrations", "preview", "SMALLINT NOT NULL DEFAULT 0"),
            ("backfill_jobs", "before_images_removed", "BIGINT"),
            ("backfill_jobs", "notified_sequence", "BIGINT NOT NULL DEFAULT 0"),
        ]

    /// Indexes on added columns, made once the columns exist.
    static let laterIndexes = [
        "CREATE INDEX IF NOT EXISTS backfill_jobs_unpublished ON backfill_jobs (updated_at) WHERE published_sequence < sequence",
        "CREATE INDEX IF NOT EXISTS migrations_unpublished ON migrations (updated_at) WHERE published_sequence < sequence",
        "CREATE INDEX IF NOT EXISTS backfill_jobs_unnotified ON backfill_jobs (status) WHERE notified_sequence < sequence",
    ]

    /// Creates what is missing. A schema already complete is only read (no DDL, no lock): every
    /// process and every CLI call opens the store, and on PostgreSQL even `ALTER TABLE … ADD COLUMN IF
    /// NOT EXISTS` and `CREATE INDEX IF NOT EXISTS` lock their table against writers (a `wait` polling
    /// every 300 ms stalled processors, and could deadlock with them).
    static func create(in store: Store) async throws {
        guard try await !isComplete(in: store) else { return }
        try await store.transaction { database in
            if store.flavor == .postgres {
                // Two processes starting at once must not both create a table.
                try await database.raw("SELECT pg_advisory_xact_lock(7031988)").run()
            }
            for statement in statements {
                try await database.raw(SQLQueryString(statement)).run()
            }
            for added in addedColumns {
                switch store.flavor {
                case .postgres:
                    try await database.raw(
                        """
                        ALTER TABLE \(ident: added.table) ADD COLUMN IF NOT EXISTS \(ident: added.column) \(unsafeRaw: added.definition)
                        """
                    ).run()
                case .sqlite:
                    let existing = try await database.raw("SELECT name FROM pragma_table_info(\(bind: added.table))").all()
                        .map { try $0.decode(column: "name", as: String.self) }
                    if !existing.contains(added.column) {
                        try await database.raw(
                            """
                            ALTER TABLE \(ident: added.table) ADD COLUMN \(ident: added.column) \(unsafeRaw: added.definition)
                            """
                        ).run()
                    }
                }
            }
            for statement in laterIndexes {
                try await database.raw(SQLQueryString(statement)).run()
            }
        }
    }

    /// The table or index each statement creates.
    static var objectNames: [String] {
        (statements + laterIndexes).compactMap { statement in
            statement.firstMatch(of: /CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)/).map { String($0.1) }
        }
    }

    /// Whether every table, index and added column exists already.
    static func isComplete(in store: Store) async throws -> Bool {
        try await store.withDatabase { database in
            let relations: Set<String>
            var columns: Set<String> = []
            switch store.flavor {
            case .postgres:
                relations = Set(
                    try await database.raw(
                        """
                        SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = current_schema()
                        """
                    ).all().map { try $0.decode(column: "name", as: String.self) })
                columns = Set(
                    try await database.raw(
                        """
                        SELECT table_name || '.' || column_name AS name FROM information_schema.columns
                        WHERE table_schema = current_schema()
                        """
                    ).all().map { try $0.decode(column: "name", as: String.self) })
            case .sqlite:
                relations = Set(
                    try await database.raw("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
                        .all().map { try $0.decode(column: "name", as: String.self) })
                for table in Set(addedColumns.map(\.table)) where relations.contains(table) {
                    for row in try await database.raw("SELECT name FROM pragma_table_info(\(bind: table))").all() {
                        columns.insert("\(table).\(try row.decode(column: "name", as: String.self))")
                    }
                }
            }
            return objectNames.allSatisfy(relations.contains)
                && addedColumns.allSatisfy { columns.contains("\($0.table).\($0.column)") }
        }
    }
}
