/**
 * The fault tests drive kafkajs in jest's own process, which npm runs on Node.js 24; kafkajs' negative timers
 * make that Node.js print a TimeoutNegativeWarning that means nothing here (see dropKafkajsTimeoutWarnings).
 */
import { dropKafkajsTimeoutWarnings } from 'msk-twin';

export default function globalSetup(): void {
  dropKafkajsTimeoutWarnings();
}
