import type { Archive, ArchiveSnapshot, ArchiveUser, DelegationType, MousRecord } from '../../../lib/archive/Archive';

/** One call the fake received, so tests can check which lookups were (not) made. */
export type ArchiveCall = { readonly method: keyof Archive; readonly args: readonly unknown[] };

/** An in-memory `Archive` over snapshot-shaped data, recording every call. */
export class FakeArchive implements Archive {
  readonly calls: ArchiveCall[] = [];

  constructor(private readonly data: Partial<ArchiveSnapshot> = {}) {}

  async findMous(uid: string): Promise<MousRecord | undefined> {
    this.calls.push({ method: 'findMous', args: [uid] });
    return this.data.mous?.find((mous) => mous.uid === uid);
  }

  async findUserByEmail(email: string): Promise<ArchiveUser | undefined> {
    this.calls.push({ method: 'findUserByEmail', args: [email] });
    return this.data.users?.find((user) => user.email.toLowerCase() === email.toLowerCase());
  }

  async findProjectPi(projectCode: string): Promise<string | undefined> {
    this.calls.push({ method: 'findProjectPi', args: [projectCode] });
    return this.data.projects?.find((project) => project.code === projectCode)?.piUserId;
  }

  async hasDelegation(projectCode: string, userId: string, type: DelegationType): Promise<boolean> {
    this.calls.push({ method: 'hasDelegation', args: [projectCode, userId, type] });
    return (this.data.delegations ?? []).some(
      (delegation) => delegation.projectCode === projectCode && delegation.userId === userId && delegation.type === type,
    );
  }

  methodsCalled(): string[] {
    return this.calls.map((call) => call.method);
  }
}

/** An archive whose every lookup fails with `error`. */
export function failingArchive(error: Error): Archive {
  const fail = () => Promise.reject(error);
  return { findMous: fail, findUserByEmail: fail, findProjectPi: fail, hasDelegation: fail };
}
