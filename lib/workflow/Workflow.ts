/** The state machine that carries one MOUS request from entitlement to delivery. */
export interface Workflow {
  /** Starts the execution `name`; starting the same name with the same input again returns the same execution. */
  start(name: string, input: unknown): Promise<{ executionArn: string }>;
}
