/**
 * The errors the local Step Functions server answers with. Codes are AWS's own, because clients branch on
 * them: the SDK turns `__type` into an exception class (`ExecutionAlreadyExists`...), scripts match the name.
 */

export type StepFunctionsErrorCode =
  | 'StateMachineDoesNotExist'
  | 'StateMachineAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'ExecutionAlreadyExists'
  | 'InvalidDefinition'
  | 'InvalidName'
  | 'InvalidArn'
  | 'InvalidExecutionInput'
  | 'InvalidToken'
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException';

/** A request the server refuses; sent as HTTP 400 `{"__type": code, "message": ...}`. */
export class StepFunctionsError extends Error {
  override readonly name = 'StepFunctionsError';

  constructor(
    readonly code: StepFunctionsErrorCode,
    message: string,
  ) {
    super(message);
  }
}
