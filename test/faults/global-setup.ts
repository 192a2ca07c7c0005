/**
 * The fault tests drive kafkajs in jest's own process, which npm runs on Node.js 24; kafkajs' negative timers
 * make that Node.js print a TimeoutNegativeWarning that means nothing here (see ignoreNegativeTimeoutWarnings).
 */
import { ignoreNegativeTimeoutWarnings } from '../../lambda/shared/kafka';

export default function globalSetup(): void {
  ignoreNegativeTimeoutWarnings();
}
