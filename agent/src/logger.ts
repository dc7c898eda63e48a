// The agent's own log: one JSON object per line on stdout (journald and log shippers parse it), never a secret.
export interface AgentLogger {
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export function createLogger(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): AgentLogger {
  const emit = (level: string) => (msg: string, extra?: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra }));
  return { info: emit("info"), warn: emit("warn"), error: emit("error") };
}
