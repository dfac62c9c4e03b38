/**
 * @module What hive-driver leaves untyped, named once: the operation states a
 * status poll answers (and what each failed one means), and opening a session:
 * the protocol version it asks for and the authentication object, which must
 * match the server's hive.server2.authentication (NOSASL, or NONE: SASL PLAIN
 * with any user) or connect hangs. Used by the adapter (hive-connection.ts,
 * hive-catalog.ts) and by the tests' own small client (test/infra/hive-client.ts).
 */
import hive from 'hive-driver';

type OperationStateName =
  | 'FINISHED_STATE'
  | 'ERROR_STATE'
  | 'CANCELED_STATE'
  | 'CLOSED_STATE'
  | 'TIMEDOUT_STATE'
  | 'UKNOWN_STATE';
const types = hive.thrift.TCLIService_types as {
  TOperationState: Record<OperationStateName, number>;
  TProtocolVersion: { HIVE_CLI_SERVICE_PROTOCOL_V10: number };
};

export const OPERATION_STATE = types.TOperationState;

/** The states a statement ends in without rows, and how a message says so ("Hive statement failed"). */
export const FAILED_STATES: ReadonlyMap<number, string> = new Map([
  [OPERATION_STATE.ERROR_STATE, 'failed'],
  [OPERATION_STATE.CANCELED_STATE, 'was cancelled'],
  [OPERATION_STATE.CLOSED_STATE, 'was closed'],
  [OPERATION_STATE.TIMEDOUT_STATE, 'timed out'],
  [OPERATION_STATE.UKNOWN_STATE, 'is in an unknown state'],
]);

export interface HiveAuthSettings {
  auth: 'NOSASL' | 'NONE';
  username?: string | undefined;
  password?: string | undefined;
}

function hiveAuthentication(settings: HiveAuthSettings) {
  return settings.auth === 'NOSASL'
    ? new hive.auth.NoSaslAuthentication()
    : new hive.auth.PlainTcpAuthentication({
        username: settings.username ?? 'anonymous',
        password: settings.password ?? 'anonymous',
      });
}

/**
 * Connects `client` over TCP and opens a session. Either step can hang forever
 * (a wrong authentication, a dead server): the caller races it with a deadline.
 */
export async function connectSession(
  client: InstanceType<typeof hive.HiveClient>,
  endpoint: HiveAuthSettings & { host: string; port: number },
) {
  await client.connect(
    { host: endpoint.host, port: endpoint.port },
    new hive.connections.TcpConnection(),
    hiveAuthentication(endpoint),
  );
  return client.openSession({ client_protocol: types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10 });
}
