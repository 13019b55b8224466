"""The parts of KEDA's ScaledObject and TriggerAuthentication (keda.sh/v1alpha1) that jobstream's
manifests use, as JSON schemas written from KEDA's documentation: unknown fields are refused, so a
misspelt key fails the test as the Kubernetes API server would refuse it once KEDA's CRDs are installed."""

_METADATA = {"type": "object", "required": ["name"],
             "properties": {"name": {"type": "string"}, "namespace": {"type": "string"},
                            "labels": {"type": "object"}, "annotations": {"type": "object"}}}

_KAFKA_TRIGGER_METADATA = {
    "type": "object",
    "required": ["bootstrapServers", "consumerGroup", "topic"],
    "additionalProperties": False,
    "properties": {key: {"type": "string"} for key in [
        "bootstrapServers", "consumerGroup", "topic", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
        "allowIdleConsumers", "excludePersistentLag", "scaleToZeroOnInvalidOffset", "limitToPartitionsWithLag",
        "partitionLimitation", "sasl", "tls", "version", "ensureEvenDistributionOfPartitions"]},
}

SCALED_OBJECT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {"type": "object", "required": ["name"], "additionalProperties": False,
                                   "properties": {"name": {"type": "string"}, "apiVersion": {"type": "string"},
                                                  "kind": {"type": "string"},
                                                  "envSourceContainerName": {"type": "string"}}},
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer", "minimum": 0},
                "initialCooldownPeriod": {"type": "integer", "minimum": 0},
                "idleReplicaCount": {"type": "integer", "minimum": 0},
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "fallback": {"type": "object"},
                "advanced": {"type": "object"},
                "triggers": {
                    "type": "array", "minItems": 1,
                    "items": {
                        "type": "object", "required": ["type", "metadata"], "additionalProperties": False,
                        "properties": {
                            "type": {"const": "kafka"},
                            "name": {"type": "string"},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "useCachedMetrics": {"type": "boolean"},
                            "metadata": _KAFKA_TRIGGER_METADATA,
                            "authenticationRef": {"type": "object", "required": ["name"], "additionalProperties": False,
                                                  "properties": {"name": {"type": "string"},
                                                                 "kind": {"enum": ["TriggerAuthentication",
                                                                                   "ClusterTriggerAuthentication"]}}},
                        },
                    },
                },
            },
        },
    },
}

TRIGGER_AUTHENTICATION = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "TriggerAuthentication"},
        "metadata": _METADATA,
        "spec": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "secretTargetRef": {
                    "type": "array", "minItems": 1,
                    "items": {"type": "object", "required": ["parameter", "name", "key"], "additionalProperties": False,
                              "properties": {"parameter": {"enum": ["sasl", "username", "password", "tls", "ca", "cert",
                                                                    "key", "keyPassword", "oauthTokenEndpointUri",
                                                                    "scopes", "awsRegion"]},
                                             "name": {"type": "string"}, "key": {"type": "string"}}},
                },
                "env": {"type": "array"},
            },
        },
    },
}

SCHEMAS = {"ScaledObject": SCALED_OBJECT, "TriggerAuthentication": TRIGGER_AUTHENTICATION}
