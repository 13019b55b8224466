import ArgumentParser
import Foundation
import JobstreamService
import JobstreamStore
import Logging

/// `jobstream store …`: the record store being backfilled.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Fill and inspect the record store (rate plan charges, invoice items).",
        subcommands: [Seed.self, Counts.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the store's charges and invoice items with deterministic sample data.",
            discussion:
                "The same counts give the same records every time (RPC-00000001…, II-00000001…); about 40 % of the charges have no booking date."
        )

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "Rate plan charges to create.") var charges: Int = 10_000
        @Option(name: .customLong("invoice-items"), help: "Invoice items to create.") var invoiceItems: Int = 10_000

        func validate() throws {
            guard charges >= 0, invoiceItems >= 0 else {
                throw ValidationError("--charges and --invoice-items cannot be negative")
            }
            guard invoiceItems == 0 || charges > 0 else {
                throw ValidationError("invoice items need at least one charge to bill")
            }
        }

        func run() async throws {
            let logger = LoggingSetup.bootstrap(label: "jobstream.cli", level: .warning)
            let store = try await storeOptions.openStore(logger: logger)
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                try await StoreSeeder(charges: charges, invoiceItems: invoiceItems).seed(store)
            }
            await store.close()
            print(
                "seeded \(store.location): \(charges) rate plan charges, \(invoiceItems) invoice items in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2))))"
            )
        }
    }

    struct Counts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count the store's records.")

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let logger = LoggingSetup.bootstrap(label: "jobstream.cli", level: .warning)
            let store = try await storeOptions.openStore(logger: logger)
            let counts = try await RecordCounts.read(store)
            await store.close()
            print("rate plan charges: \(counts.charges) (\(counts.chargesWithoutBookingDate) without a booking date)")
            print("invoice items:     \(counts.invoiceItems)")
        }
    }
}
