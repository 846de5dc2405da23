export { Log, type LogOptions } from './log.js';
export { createOffsetStore, type OffsetStore } from './offsets.js';
export type { Consumer, ConsumerOptions, ConsumerStatus, LogMessage, ReplaySource, Topic, TopicOptions, TopicStatus } from './types.js';
