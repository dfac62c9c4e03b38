import { runUnreachableBrokerSuite } from '../fixtures/unreachable-broker.ts';
import { createKafkaBus } from './kafka-bus.ts';

runUnreachableBrokerSuite('KafkaBus', (config) => createKafkaBus(config));
