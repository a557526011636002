/**
 * The fields each Kubernetes type accepts (API 1.30), for the objects kiln renders. kubernetes-models'
 * schemas let unknown fields through, and the API server drops them silently (a misspelt
 * `readinesProbe` would simply not exist), so validate-kubernetes.ts checks every key against this.
 * A field maps to its type's name, or to MAP (free-form string keys) or LEAF (a value: no check).
 * Types not listed are not descended into.
 */
export const LEAF = "";
export const MAP = "map";

type Fields = Record<string, string>;

const leaves = (...names: string[]): Fields => Object.fromEntries(names.map((n) => [n, LEAF]));

export const KUBE_TYPES: Record<string, Fields> = {
  ObjectMeta: {
    ...leaves("name", "namespace", "generateName", "uid", "resourceVersion", "generation"),
    ...leaves("creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences"),
    ...leaves("finalizers", "managedFields"),
    labels: MAP,
    annotations: MAP,
  },
  LabelSelector: { matchLabels: MAP, matchExpressions: LEAF },
  Deployment: { apiVersion: LEAF, kind: LEAF, metadata: "ObjectMeta", spec: "DeploymentSpec", status: LEAF },
  DeploymentSpec: {
    ...leaves("replicas", "minReadySeconds", "revisionHistoryLimit", "paused", "progressDeadlineSeconds"),
    selector: "LabelSelector",
    template: "PodTemplateSpec",
    strategy: "DeploymentStrategy",
  },
  DeploymentStrategy: { type: LEAF, rollingUpdate: "RollingUpdateDeployment" },
  RollingUpdateDeployment: leaves("maxSurge", "maxUnavailable"),
  PodTemplateSpec: { metadata: "ObjectMeta", spec: "PodSpec" },
  PodSpec: {
    containers: "Container",
    initContainers: "Container",
    tolerations: "Toleration",
    nodeSelector: MAP,
    overhead: MAP,
    ...leaves("ephemeralContainers", "volumes", "restartPolicy", "terminationGracePeriodSeconds"),
    ...leaves("activeDeadlineSeconds", "dnsPolicy", "serviceAccountName", "serviceAccount"),
    ...leaves("automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC"),
    ...leaves("shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname", "subdomain"),
    ...leaves("affinity", "schedulerName", "hostAliases", "priorityClassName", "priority", "dnsConfig"),
    ...leaves("readinessGates", "runtimeClassName", "enableServiceLinks", "preemptionPolicy"),
    ...leaves("topologySpreadConstraints", "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates"),
    ...leaves("resourceClaims"),
  },
  Container: {
    ...leaves("name", "image", "command", "args", "workingDir", "envFrom", "resizePolicy", "restartPolicy"),
    ...leaves("volumeMounts", "volumeDevices", "terminationMessagePath", "terminationMessagePolicy"),
    ...leaves("imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty"),
    ports: "ContainerPort",
    env: "EnvVar",
    resources: "ResourceRequirements",
    livenessProbe: "Probe",
    readinessProbe: "Probe",
    startupProbe: "Probe",
    lifecycle: "Lifecycle",
  },
  ContainerPort: leaves("name", "hostPort", "containerPort", "protocol", "hostIP"),
  EnvVar: leaves("name", "value", "valueFrom"),
  ResourceRequirements: { limits: MAP, requests: MAP, claims: LEAF },
  Probe: {
    exec: "ExecAction",
    httpGet: "HTTPGetAction",
    tcpSocket: "TCPSocketAction",
    grpc: "GRPCAction",
    ...leaves("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold"),
    ...leaves("failureThreshold", "terminationGracePeriodSeconds"),
  },
  ExecAction: leaves("command"),
  HTTPGetAction: leaves("path", "port", "host", "scheme", "httpHeaders"),
  TCPSocketAction: leaves("port", "host"),
  GRPCAction: leaves("port", "service"),
  Lifecycle: { postStart: "LifecycleHandler", preStop: "LifecycleHandler" },
  LifecycleHandler: {
    exec: "ExecAction",
    httpGet: "HTTPGetAction",
    tcpSocket: "TCPSocketAction",
    sleep: "SleepAction",
  },
  SleepAction: leaves("seconds"),
  Toleration: leaves("key", "operator", "value", "effect", "tolerationSeconds"),
  Service: { apiVersion: LEAF, kind: LEAF, metadata: "ObjectMeta", spec: "ServiceSpec", status: LEAF },
  ServiceSpec: {
    ports: "ServicePort",
    selector: MAP,
    ...leaves("clusterIP", "clusterIPs", "type", "externalIPs", "sessionAffinity", "loadBalancerIP"),
    ...leaves("loadBalancerSourceRanges", "externalName", "externalTrafficPolicy", "healthCheckNodePort"),
    ...leaves("publishNotReadyAddresses", "sessionAffinityConfig", "ipFamilies", "ipFamilyPolicy"),
    ...leaves("allocateLoadBalancerNodePorts", "loadBalancerClass", "internalTrafficPolicy"),
    ...leaves("trafficDistribution"),
  },
  ServicePort: leaves("name", "protocol", "appProtocol", "port", "targetPort", "nodePort"),
  PodDisruptionBudget: {
    apiVersion: LEAF,
    kind: LEAF,
    metadata: "ObjectMeta",
    spec: "PodDisruptionBudgetSpec",
    status: LEAF,
  },
  PodDisruptionBudgetSpec: {
    ...leaves("minAvailable", "maxUnavailable", "unhealthyPodEvictionPolicy"),
    selector: "LabelSelector",
  },
  HorizontalPodAutoscaler: {
    apiVersion: LEAF,
    kind: LEAF,
    metadata: "ObjectMeta",
    spec: "HorizontalPodAutoscalerSpec",
    status: LEAF,
  },
  HorizontalPodAutoscalerSpec: {
    scaleTargetRef: "ScaleTargetRef",
    metrics: "MetricSpec",
    ...leaves("minReplicas", "maxReplicas", "behavior"),
  },
  ScaleTargetRef: leaves("apiVersion", "kind", "name", "envSourceContainerName"),
  MetricSpec: {
    type: LEAF,
    resource: "ResourceMetricSource",
    ...leaves("pods", "object", "external", "containerResource"),
  },
  ResourceMetricSource: { name: LEAF, target: "MetricTarget" },
  MetricTarget: leaves("type", "averageUtilization", "averageValue", "value"),
  ScaledObject: {
    apiVersion: LEAF,
    kind: LEAF,
    metadata: "ObjectMeta",
    spec: "ScaledObjectSpec",
    status: LEAF,
  },
  ScaledObjectSpec: {
    scaleTargetRef: "ScaleTargetRef",
    triggers: "ScaleTrigger",
    ...leaves("pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount"),
    ...leaves("minReplicaCount", "maxReplicaCount", "advanced", "fallback"),
  },
  ScaleTrigger: {
    metadata: MAP,
    authenticationRef: "AuthenticationRef",
    ...leaves("type", "name", "metricType", "useCachedMetrics"),
  },
  AuthenticationRef: leaves("name", "kind"),
  Secret: {
    ...leaves("apiVersion", "kind", "type", "immutable"),
    metadata: "ObjectMeta",
    data: MAP,
    stringData: MAP,
  },
  TriggerAuthentication: {
    apiVersion: LEAF,
    kind: LEAF,
    metadata: "ObjectMeta",
    spec: "TriggerAuthenticationSpec",
    status: LEAF,
  },
  TriggerAuthenticationSpec: {
    secretTargetRef: "SecretTargetRef",
    ...leaves("env", "hashiCorpVault", "podIdentity", "azureKeyVault", "awsSecretManager"),
    ...leaves("gcpSecretManager", "configMapTargetRef", "boundServiceAccountToken"),
  },
  SecretTargetRef: leaves("parameter", "name", "key"),
};
