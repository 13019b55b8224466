import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// How long before-images are kept: by default as long as the job log (for good); with a retention
/// (`backfill-validator --keep-before-images-days N`) the images of a job that ended more than N days
/// ago are removed, and the job remembers when (`before_images_removed`), so a revert of it is
/// refused saying so rather than "changed no record".
extension BeforeImages {
    /// Removes the before-images of every job that ended before `endedBefore` (epoch ms); returns how
    /// many jobs lost theirs. A job's images go in one statement, its mark in the same transaction.
    public func removeImages(ofJobsEndedBefore endedBefore: Int, now: Int = Date().epochMilliseconds) async throws -> Int {
        try await store.transaction { database in
            let jobs = try await database.raw(
                """
                SELECT job_id FROM backfill_jobs
                WHERE end_date IS NOT NULL AND end_date < \(bind: endedBefore) AND before_images_removed IS NULL
                    AND preview = 0
                LIMIT 1000
                """
            ).all().map { try $0.decode(column: "job_id", as: String.self) }
            guard !jobs.isEmpty else { return 0 }
            let list = JSONRows.list(jobs, flavor: store.flavor)
            try await database.raw("DELETE FROM backfill_before_images WHERE job_id IN \(list)").run()
            try await database.raw(
                "UPDATE backfill_jobs SET before_images_removed = \(bind: now) WHERE job_id IN \(list)"
            ).run()
            return jobs.count
        }
    }
}
