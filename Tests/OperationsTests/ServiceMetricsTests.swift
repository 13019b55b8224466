import Kafka
import Testing

@testable import JobstreamService

@Suite("Service metrics in Prometheus's text format")
struct ServiceMetricsTests {
    private func rendered(_ metrics: ServiceMetrics) async -> String {
        String(decoding: await metrics.render(), as: UTF8.self)
    }

    @Test("consumed messages, processing times and dead letters are counted per topic")
    func countsPerTopic() async {
        let metrics = ServiceMetrics(service: "backfill-processor")
        metrics.consumed(from: "jobstream.backfill.chunks")
        metrics.consumed(2, from: "jobstream.backfill.chunks")
        metrics.processed(messageFrom: "jobstream.backfill.chunks", in: .milliseconds(30))
        metrics.deadLettered(from: "jobstream.backfill.chunks")
        metrics.statusPublished(kind: .backfill, status: "Completed")
        let text = await rendered(metrics)
        #expect(text.contains(#"jobstream_messages_consumed_total{topic="jobstream.backfill.chunks"} 3"#))
        #expect(text.contains(#"jobstream_message_processing_seconds_count{topic="jobstream.backfill.chunks"} 1"#))
        #expect(text.contains(#"jobstream_message_processing_seconds_bucket{topic="jobstream.backfill.chunks",le="0.05"} 1"#))
        #expect(text.contains(#"jobstream_message_processing_seconds_bucket{topic="jobstream.backfill.chunks",le="0.025"} 0"#))
        #expect(text.contains(#"jobstream_messages_dead_lettered_total{topic="jobstream.backfill.chunks"} 1"#))
        #expect(text.contains(#"jobstream_job_status_events_total{kind="backfill",status="Completed"} 1"#))
        #expect(text.contains(#"jobstream_build_info{service="backfill-processor""#))
        #expect(text.contains("# HELP jobstream_messages_consumed_total "))
    }

    @Test("lag gauges follow the partitions in the statistics; a partition no longer fetched is dropped")
    func lagGauges() async throws {
        let metrics = ServiceMetrics()
        metrics.record(consumerStatistics: try KafkaStatistics.parse(consumerStatisticsSample))
        var text = await rendered(metrics)
        #expect(text.contains(#"jobstream_consumer_lag{topic="jobstream.backfill.chunks",partition="0"} 20"#))
        #expect(text.contains(#"jobstream_consumer_lag{topic="jobstream.backfill.chunks",partition="3"} 0"#))
        #expect(!text.contains(#"partition="1""#), "no series where the lag is unknown")
        #expect(text.contains("jobstream_consumer_assigned_partitions 3"))
        #expect(text.contains(#"jobstream_kafka_broker_rtt_p99_seconds{client="consumer",broker="1"} 0.0085"#))

        let revoked = consumerStatisticsSample.replacingOccurrences(
            of: #""fetch_state":"active","hi_offset":120"#,
            with: #""fetch_state":"none","hi_offset":120"#)
        metrics.record(consumerStatistics: try KafkaStatistics.parse(revoked))
        text = await rendered(metrics)
        #expect(!text.contains(#"partition="0""#))
        #expect(text.contains(#"jobstream_consumer_lag{topic="jobstream.backfill.chunks",partition="3"} 0"#))
    }

    @Test("jobs by status: a status no job holds any more drops to 0")
    func jobsByStatus() async {
        let metrics = ServiceMetrics()
        metrics.setJobs(["backfill": ["Processing": 2, "Completed": 5]])
        metrics.setJobs(["backfill": ["Completed": 7]])
        let text = await rendered(metrics)
        #expect(text.contains(#"jobstream_jobs{kind="backfill",status="Completed"} 7"#))
        #expect(text.contains(#"jobstream_jobs{kind="backfill",status="Processing"} 0"#))
    }

    @Test("values read at rendering run first")
    func refreshBeforeRendering() async {
        let metrics = ServiceMetrics()
        metrics.beforeRendering { metrics.setJobs(["sync": ["Finished": 1]]) }
        #expect(await rendered(metrics).contains(#"jobstream_jobs{kind="sync",status="Finished"} 1"#))
    }
}
