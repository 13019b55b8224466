/* Round-trip latency with plain librdkafka, the baseline of `make bench-kafka`'s latency case:
 * send one message, wait until an already-assigned group consumer receives it, repeat.
 * Same settings as `kafka-bench latency`: idempotent producer, acks=all, linger.ms=0,
 * fetch.wait.max.ms=10.  Usage: rtt BROKERS TOPIC COUNT */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s=%s: %s\n", key, value, errstr);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: rtt BROKERS TOPIC COUNT\n"); return 2; }
    const char *brokers = argv[1], *topic = argv[2];
    int count = atoi(argv[3]);
    char errstr[512], group[64];
    snprintf(group, sizeof group, "rtt-c-%ld", (long)time(NULL));

    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    set(pconf, "bootstrap.servers", brokers);
    set(pconf, "enable.idempotence", "true");
    set(pconf, "acks", "all");
    set(pconf, "linger.ms", "0");
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof errstr);
    if (!producer) { fprintf(stderr, "%s\n", errstr); return 1; }

    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    set(cconf, "bootstrap.servers", brokers);
    set(cconf, "group.id", group);
    set(cconf, "auto.offset.reset", "latest");
    set(cconf, "fetch.wait.max.ms", "10");
    set(cconf, "session.timeout.ms", "6000");
    set(cconf, "max.poll.interval.ms", "10000");
    set(cconf, "partition.assignment.strategy", "cooperative-sticky");
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, sizeof errstr);
    if (!consumer) { fprintf(stderr, "%s\n", errstr); return 1; }
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);

    /* Warm up: send until the consumer, once assigned, receives one. */
    for (int received = 0; !received;) {
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE("warmup", 6),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        rd_kafka_poll(producer, 0);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 200);
        if (m) { received = !m->err; rd_kafka_message_destroy(m); }
    }
    double deadline = now_ms() + 500;
    while (now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 50);
        if (m) rd_kafka_message_destroy(m);
    }

    double *samples = calloc(count, sizeof *samples);
    char value[32];
    for (int i = 0; i < count; i++) {
        int length = snprintf(value, sizeof value, "rtt-%d", i);
        double start = now_ms();
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, length),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        for (;;) {
            rd_kafka_poll(producer, 0);
            rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
            if (!m) continue;
            int match = !m->err && m->len == (size_t)length && memcmp(m->payload, value, length) == 0;
            rd_kafka_message_destroy(m);
            if (match) break;
        }
        samples[i] = now_ms() - start;
    }
    qsort(samples, count, sizeof *samples, compare);
    printf("samples: %d\n", count);
    printf("p50 ms: %.3f\n", samples[count / 2]);
    printf("p99 ms: %.3f\n", samples[(int)(count * 0.99) < count ? (int)(count * 0.99) : count - 1]);

    free(samples);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_flush(producer, 5000);
    rd_kafka_destroy(producer);
    return 0;
}
