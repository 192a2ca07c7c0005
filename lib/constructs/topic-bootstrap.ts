import { Construct } from 'constructs';
import type { TopicSpec } from '../config';
import { topicsProblem, type TopicProperties } from '../kafka-rules';
import { ConfigError } from '../config';
import type { MskCluster } from './msk-cluster';

export interface TopicBootstrapProps {
  /** The cluster the topics live in. */
  readonly cluster: MskCluster;
  /** The topics to create and maintain. */
  readonly topics: TopicSpec[];
}

/** Creates and maintains the declared Kafka topics. */
export class TopicBootstrap extends Construct {
  /** The topics in the form the custom resource receives them. */
  readonly topics: TopicProperties[];

  constructor(scope: Construct, id: string, props: TopicBootstrapProps) {
    super(scope, id);
    this.topics = props.topics.map((t) => ({
      Name: t.name,
      Partitions: t.partitions,
      ReplicationFactor: t.replicationFactor ?? props.cluster.defaultReplicationFactor,
      Config: t.config ?? {},
    }));
    const problem = topicsProblem(this.topics, props.cluster.brokerCount, props.cluster.minInsyncReplicas);
    if (problem) throw new ConfigError(`${this.node.path}: ${problem}`);
  }
}
