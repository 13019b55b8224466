/// The kind of value a column holds, checked by the validator.
public enum ColumnType: String, Sendable, Hashable {
    /// Free text up to 255 characters.
    case text
    /// A calendar date written YYYY-MM-DD.
    case date
    /// An exact decimal such as 1200.50 (up to 15 digits before the point and 6 after).
    case decimal
}

/// A column an action understands.
public struct ActionColumn: Sendable, Hashable {
    /// The header name in the file (matched ignoring case and surrounding spaces).
    public let name: String
    public let type: ColumnType
    /// The column that identifies the record; every row must have it.
    public let isKey: Bool
    /// The database column it sets (or, for the key, finds the record by).
    public let databaseColumn: String
    public let help: String
}

/// A backfill action: which records it changes, and which columns its file has.
///
/// A file action's rows each identify one record by the key column and set the other columns that
/// are not empty; an empty value leaves the field as it is. Columns the action does not know are
/// informational: kept in the result file, never applied.
public struct BackfillAction: Sendable, Hashable {
    public let name: String
    public let summary: String
    /// The table the action changes.
    public let table: String
    /// What one record is called in messages ("rate plan charge").
    public let recordName: String
    /// Empty for a file-less action.
    public let columns: [ActionColumn]

    public var needsFile: Bool { !columns.isEmpty }
    public var keyColumn: ActionColumn? { columns.first(where: \.isKey) }
    public var updatableColumns: [ActionColumn] { columns.filter { !$0.isKey } }

    /// Every action, by name.
    public static let all: [BackfillAction] = [bookingDateFromCreated, updateRatePlanCharge, updateInvoiceItem]

    public static func named(_ name: String) -> BackfillAction? {
        all.first { $0.name == name }
    }

    public static let bookingDateFromCreated = BackfillAction(
        name: "booking-date-from-created",
        summary: "Sets each rate plan charge's booking date to its original created-on date where it has none. No file.",
        table: "rate_plan_charges", recordName: "rate plan charge", columns: [])

    public static let updateRatePlanCharge = BackfillAction(
        name: "update-rate-plan-charge",
        summary: "Sets the listed revenue fields on the rate plan charges the file names.",
        table: "rate_plan_charges", recordName: "rate plan charge",
        columns: [
            ActionColumn(
                name: "Charge Id", type: .text, isKey: true, databaseColumn: "id",
                help: "the rate plan charge to change, e.g. RPC-00000042"),
            ActionColumn(
                name: "Booking Date", type: .date, isKey: false, databaseColumn: "booking_date",
                help: "the date the charge was booked"),
            ActionColumn(
                name: "Accounting Code", type: .text, isKey: false, databaseColumn: "accounting_code",
                help: "the revenue accounting code"),
            ActionColumn(
                name: "Revenue Recognition Rule", type: .text, isKey: false,
                databaseColumn: "revenue_recognition_rule", help: "how revenue is recognized"),
            ActionColumn(
                name: "Amount", type: .decimal, isKey: false, databaseColumn: "amount",
                help: "the charge amount"),
            ActionColumn(
                name: "Service Start Date", type: .date, isKey: false, databaseColumn: "service_start_date",
                help: "when the service starts"),
            ActionColumn(
                name: "Service End Date", type: .date, isKey: false, databaseColumn: "service_end_date",
                help: "when the service ends"),
        ])

    public static let updateInvoiceItem = BackfillAction(
        name: "update-invoice-item",
        summary: "Sets the listed revenue fields on the invoice items the file names.",
        table: "invoice_items", recordName: "invoice item",
        columns: [
            ActionColumn(
                name: "Invoice Item Id", type: .text, isKey: true, databaseColumn: "id",
                help: "the invoice item to change, e.g. II-00000042"),
            ActionColumn(
                name: "Accounting Code", type: .text, isKey: false, databaseColumn: "accounting_code",
                help: "the revenue accounting code"),
            ActionColumn(
                name: "Revenue Start Date", type: .date, isKey: false, databaseColumn: "revenue_start_date",
                help: "when revenue recognition starts"),
            ActionColumn(
                name: "Revenue End Date", type: .date, isKey: false, databaseColumn: "revenue_end_date",
                help: "when revenue recognition ends"),
            ActionColumn(
                name: "Amount", type: .decimal, isKey: false, databaseColumn: "amount",
                help: "the item amount"),
        ])

    /// The database columns the action can change, in a fixed order: what a before-image keeps of a
    /// record (``BeforeImages``).
    public var changeableColumns: [String] {
        needsFile ? updatableColumns.map(\.databaseColumn) : Self.filelessChanges[name] ?? []
    }

    private static let filelessChanges = ["booking-date-from-created": ["booking_date"]]

    /// The name of the column that identifies a record of the action's table ("Charge Id"), also for a
    /// file-less action.
    public var recordKeyName: String {
        keyColumn?.name ?? Self.all.lazy.filter { $0.table == table }.compactMap(\.keyColumn).first?.name ?? "Record Id"
    }

    /// The actions that change `table`.
    public static func changing(_ table: String) -> [BackfillAction] {
        all.filter { $0.table == table }
    }

    /// The action's CSV template: its header line.
    public var templateHeader: [String] { columns.map(\.name) }
}
