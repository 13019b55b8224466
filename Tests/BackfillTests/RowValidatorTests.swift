import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Testing

@testable import JobstreamBackfill

@Suite("Header and row validation")
struct RowValidatorTests {
    let action = BackfillAction.updateRatePlanCharge

    @Test("a header without the key column fails, naming the column and what was found")
    func missingKey() {
        let problem = #expect(throws: FileProblem.self) {
            try RowValidator(action: action, header: ["Booking Date", "Amount"])
        }
        #expect(problem?.description.contains("\"Charge Id\" is missing") == true)
        #expect(problem?.description.contains("\"Booking Date\", \"Amount\"") == true)
    }

    @Test("a header with nothing the action can set fails, listing what it can set")
    func nothingSettable() {
        let problem = #expect(throws: FileProblem.self) { try RowValidator(action: action, header: ["Charge Id", "Note"]) }
        #expect(problem?.description.contains("\"Booking Date\"") == true)
    }

    @Test("a column given twice fails")
    func duplicateColumn() {
        let problem = #expect(throws: FileProblem.self) {
            try RowValidator(action: action, header: ["Charge Id", "Amount", " amount "])
        }
        #expect(problem?.description.contains("columns 2 and 3") == true)
    }

    @Test("header names match ignoring case and spaces; unknown columns are kept out of the row")
    func informationalColumns() throws {
        let validator = try RowValidator(action: action, header: [" charge id", "BOOKING DATE", "Note"])
        let row = try validator.validate(["RPC-1", "2024-02-29", "keep me"], rowNumber: 7).get()
        #expect(row == BackfillRow(rowNumber: 7, fields: ["Charge Id": "RPC-1", "Booking Date": "2024-02-29"]))
    }

    @Test(
        "every problem of a row is reported together",
        arguments: [
            (["", "2024-01-01", "1"], "Charge Id is required"),
            (["RPC-1", "2024-02-30", "1"], "Booking Date: \"2024-02-30\" is not a date written YYYY-MM-DD"),
            (["RPC-1", "01/02/2024", "1"], "Booking Date: \"01/02/2024\" is not a date written YYYY-MM-DD"),
            (["RPC-1", "2024-01-01", "1,5"], "Amount: \"1,5\" is not a decimal number such as 1200.50"),
            (["RPC-1", "", ""], "nothing to set: every column update-rate-plan-charge can set is empty on this row"),
            (
                ["RPC-1", "x", "y"],
                "Booking Date: \"x\" is not a date written YYYY-MM-DD; Amount: \"y\" is not a decimal number such as 1200.50"
            ),
            (["RPC-1", "2024-01-01"], "the row has 2 fields but the header has 3"),
        ])
    func rowProblems(fields: [String], expected: String) throws {
        let validator = try RowValidator(action: action, header: ["Charge Id", "Booking Date", "Amount"])
        guard case .failure(let problem) = validator.validate(fields, rowNumber: 1) else {
            Issue.record("row \(fields) was accepted")
            return
        }
        #expect(problem.description == expected)
        #expect(validator.problem(of: fields) == problem, "the counting pass refuses the row for the same reasons")
    }

    @Test("the counting pass refuses exactly the rows validation refuses, for the same reasons")
    func problemAgreesWithValidate() throws {
        let validator = try RowValidator(action: action, header: ["Charge Id", "Booking Date", "Note", "Amount"])
        var random = SplitMix64(seed: 11)
        let pool = ["", " ", "RPC-1", "2024-02-29", "2024-02-30", "12.50", "1,5", "x", "é\u{0}"]
        var refused = 0
        for _ in 0..<2_000 {
            let fields = (0..<Int.random(in: 3...5, using: &random)).map { _ in pool.randomElement(using: &random)! }
            let verdict = validator.validate(fields, rowNumber: 1)
            switch verdict {
            case .success: #expect(validator.problem(of: fields) == nil, "\(fields)")
            case .failure(let problem):
                refused += 1
                #expect(validator.problem(of: fields) == problem, "\(fields)")
            }
        }
        #expect(refused > 100 && refused < 2_000, "both kinds of row were drawn")
    }

    @Test(
        "decimals",
        arguments: [
            ("0", true), ("-12.50", true), ("1200.123456", true), ("1.", false), (".5", false),
            ("1.1234567", false), ("1e5", false), ("--1", false), ("1234567890123456", false),
        ])
    func decimals(text: String, valid: Bool) {
        #expect(RowValidator.isDecimal(text) == valid)
    }

    @Test("duplicate keys are found exactly, and 200,000 distinct keys raise no false duplicate")
    func duplicates() {
        var finder = DuplicateKeyFinder(expectedKeys: 200_000)
        let keys = (1...200_000).map { "RPC-\($0)" } + ["RPC-17", "RPC-17", "RPC-99"]
        for key in keys { finder.add(key) }
        for (row, key) in keys.enumerated() { finder.count(key, row: row + 1) }
        #expect(
            finder.duplicateProblem(for: "RPC-17", columnName: "Charge Id")
                == "Charge Id RPC-17 appears on 3 rows of the file (rows 17, 200001, 200002); each record may appear once")
        #expect(finder.duplicateProblem(for: "RPC-99", columnName: "Charge Id")?.contains("appears on 2 rows") == true)
        let falseAlarms = (1...200_000).filter { $0 != 17 && $0 != 99 }
            .filter { finder.duplicateProblem(for: "RPC-\($0)", columnName: "Charge Id") != nil }
        #expect(falseAlarms.isEmpty)
    }

    @Test("every file action's template is its columns, key first; the file-less action has none")
    func templates() {
        #expect(BackfillAction.updateRatePlanCharge.templateHeader.first == "Charge Id")
        #expect(BackfillAction.updateInvoiceItem.templateHeader.first == "Invoice Item Id")
        #expect(BackfillAction.bookingDateFromCreated.templateHeader.isEmpty)
        #expect(!BackfillAction.bookingDateFromCreated.needsFile)
    }
}
