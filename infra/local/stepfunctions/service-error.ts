/** Error codes the local endpoint answers with, spelled as Step Functions spells them. */
export type SfnErrorCode =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'StateMachineDoesNotExist'
  | 'InvalidArn'
  | 'InvalidName'
  | 'InvalidExecutionInput'
  | 'InvalidToken'
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'InternalFailure';

/** A refusal to send back to the caller as `{"__type": code, "message": ...}`. */
export class SfnServiceError extends Error {
  readonly code: SfnErrorCode;
  /** HTTP status; Step Functions answers client faults with 400. */
  readonly status: number;

  constructor(code: SfnErrorCode, message: string, status = 400) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
  }
}
