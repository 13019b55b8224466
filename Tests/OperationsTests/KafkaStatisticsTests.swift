import Kafka
import Testing

/// librdkafka's statistics as 2.8 writes them, trimmed to the fields around the ones jobstream reads.
let consumerStatisticsSample = """
    {"name":"backfill-processor#consumer-2","client_id":"backfill-processor","type":"consumer","ts":5016483227792,
     "time":1700000000,"replyq":0,"msg_cnt":0,"msg_size":0,"tx":120,"rx":118,
     "brokers":{
       "127.0.0.1:9092/bootstrap":{"name":"127.0.0.1:9092/bootstrap","nodeid":-1,"state":"UP",
         "rtt":{"min":0,"max":0,"avg":0,"sum":0,"cnt":0,"p50":0,"p99":0}},
       "kafka-1:9092/1":{"name":"kafka-1:9092/1","nodeid":1,"state":"UP",
         "rtt":{"min":120,"max":9000,"avg":300,"sum":3000,"cnt":10,"p50":250,"p99":8500}}},
     "topics":{
       "jobstream.backfill.chunks":{"topic":"jobstream.backfill.chunks","age":9000,"metadata_age":900,
         "partitions":{
           "0":{"partition":0,"broker":1,"leader":1,"fetch_state":"active","hi_offset":120,"committed_offset":100,
                "consumer_lag":20,"consumer_lag_stored":15},
           "1":{"partition":1,"broker":1,"leader":1,"fetch_state":"active","hi_offset":40,"committed_offset":-1001,
                "consumer_lag":-1,"consumer_lag_stored":-1},
           "2":{"partition":2,"broker":1,"leader":1,"fetch_state":"none","hi_offset":70,"committed_offset":-1001,
                "consumer_lag":-1,"consumer_lag_stored":-1},
           "3":{"partition":3,"broker":1,"leader":1,"fetch_state":"active","hi_offset":9,"committed_offset":9,
                "consumer_lag":0,"consumer_lag_stored":0},
           "-1":{"partition":-1,"broker":-1,"leader":-1,"fetch_state":"none","hi_offset":-1001,"committed_offset":-1001,
                 "consumer_lag":-1,"consumer_lag_stored":-1}}}},
     "cgrp":{"state":"up","stateage":5000,"join_state":"steady","rebalance_age":4000,"rebalance_cnt":1,
             "rebalance_reason":"","assignment_size":3}}
    """

@Suite("Parsing librdkafka's statistics")
struct KafkaStatisticsTests {
    @Test("lag is reported for fetched partitions with a known lag only")
    func lagOfFetchedPartitions() throws {
        let statistics = try KafkaStatistics.parse(consumerStatisticsSample)
        #expect(statistics.type == "consumer")
        #expect(
            statistics.partitionLags == [
                .init(topic: "jobstream.backfill.chunks", partition: 0, lag: 20),
                .init(topic: "jobstream.backfill.chunks", partition: 3, lag: 0),
            ])
        #expect(statistics.consumerGroup?.joinState == "steady")
        #expect(statistics.consumerGroup?.assignmentSize == 3)
    }

    @Test("brokers keep their id and round-trip times; the bootstrap address has id -1")
    func brokers() throws {
        let statistics = try KafkaStatistics.parse(consumerStatisticsSample)
        #expect(statistics.brokers["kafka-1:9092/1"]?.nodeID == 1)
        #expect(statistics.brokers["kafka-1:9092/1"]?.roundTrip?.p99 == 8500)
        #expect(statistics.brokers["127.0.0.1:9092/bootstrap"]?.nodeID == -1)
    }

    @Test("a document that is not statistics is refused")
    func refusesOtherJSON() {
        #expect(throws: (any Error).self) { try KafkaStatistics.parse(#"{"type":"consumer"}"#) }
        #expect(throws: (any Error).self) { try KafkaStatistics.parse("not json") }
    }
}
