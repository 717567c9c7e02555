/**
 * Data rights end to end on the local cloud: a calibrator-only request releases calibrators only, and the
 * entitlement check cannot be skipped.
 */
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { MousRequest } from '../../lib/domain/request';
import { mailbox, mailsOf, postRequest, s3, service, sqliteArchivePath, sfn, statesEntered, waitForExecution } from './support/clients';
import { RELEASING_STATES } from '../releasingStates';

/** The seed's calibrator example: a MOUS proprietary until 2099, and its science target. */
const PROPRIETARY_MOUS = 'uid___A001_X159a_X6b';
const ITS_TARGET = 'IRAS_04302+2247';

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3().send(new ListObjectsV2Command({ Bucket: service().dataBucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key!);
}

async function executionNames(): Promise<string[]> {
  const listed = await sfn().send(new ListExecutionsCommand({ stateMachineArn: service().stateMachineArn, maxResults: 1000 }));
  return (listed.executions ?? []).map((execution) => execution.name!);
}

describe('data rights', () => {
  test('the attack: a stranger asks calibrator-only for a proprietary MOUS naming its science target; refused at intake, nothing written, sent or started', async () => {
    // Prepare
    const ticket = '81001';
    const [claimsBefore, triggersBefore] = [await keysUnder('claims/'), await keysUnder('triggers/')];

    // Act
    const response = await postRequest({
      projectCode: '2021.1.01582.S',
      userName: 'Nobody Known',
      userEmail: 'nobody@example.org',
      helpdeskTicket: ticket,
      arcContact: 'arc.staff@example.org',
      mous: ['uid://A001/X159a/X6b'],
      calibratorFields: [ITS_TARGET],
    });

    // Assess
    expect(response.status).toBe(422);
    expect(response.body.results).toEqual([
      {
        mous: PROPRIETARY_MOUS,
        outcome: 'rejected',
        error: {
          code: 'NOT_A_CALIBRATOR',
          message: `${ITS_TARGET} is a science target of ${PROPRIETARY_MOUS}: calibrator-only requests may name calibrators only`,
        },
      },
    ]);
    expect(await keysUnder('claims/')).toEqual(claimsBefore);
    expect(await keysUnder('triggers/')).toEqual(triggersBefore);
    expect((await executionNames()).filter((name) => name.startsWith(`t${ticket}-${PROPRIETARY_MOUS}-`))).toEqual([]);
    expect((await mailbox()).filter((mail) => mail.text.includes(`helpdesk ticket ${ticket}`))).toEqual([]);
  });

  test('archive changed after intake: the calibrator asked for is a target on the processing day, so the stranger is checked, nothing is staged and the maintainer is told', async () => {
    // Prepare: Stella Stranger asks for the phase calibrator of a MOUS proprietary until 2099, which intake accepts
    const mous = 'uid___A001_X2f1e_X101';
    const field = 'J0438+3004';
    const db = new DatabaseSync(path.resolve(sqliteArchivePath()));
    const intents = db.prepare(
      `SELECT i.exec_block_uid AS block, i.field_position AS position, i.intent AS intent FROM field_intents i
       JOIN observed_fields f ON f.exec_block_uid = i.exec_block_uid AND f.position = i.field_position
       JOIN exec_blocks eb ON eb.uid = f.exec_block_uid WHERE eb.mous_uid = ? AND f.name = ?`,
    );
    const before = intents.all(mous, field) as { block: string; position: number; intent: string }[];
    const response = await postRequest({
      projectCode: '2022.1.00999.S',
      userName: 'Stella Stranger',
      userEmail: 'stella.stranger@example.org',
      helpdeskTicket: '81002',
      arcContact: 'arc.staff@example.org',
      mous: [mous],
      calibratorFields: [field],
      force: true,
    });
    expect(response.status).toBe(202);
    const accepted = response.body.results[0];

    try {
      // Act: the archive now says the field was a science target (as soon as intake has answered)
      for (const { block, position } of before) {
        db.prepare('INSERT OR IGNORE INTO field_intents (exec_block_uid, field_position, intent) VALUES (?, ?, ?)').run(
          block,
          position,
          'OBSERVE_TARGET',
        );
      }
      const execution = await waitForExecution(accepted.executionArn);

      // Assess: the fault reached the check, which decided for the whole MOUS
      const checked = execution.events.find(
        (event) => event.type === 'TaskStateExited' && event.stateExitedEventDetails?.name === 'CheckEntitlement',
      );
      const decision = JSON.parse(checked!.stateExitedEventDetails!.output!).entitlement;
      expect(decision.outcome).toBe('NOT_ENTITLED');
      expect(decision.reason).toContain(`${field} is not a calibrator of MOUS ${mous}`);
      const states = statesEntered(execution.events);
      expect(states.filter((state) => RELEASING_STATES.includes(state))).toEqual([]);
      expect(states.slice(-2)).toEqual(['ReplyNotEntitled', 'NotEntitled']);
      const reply = (await mailsOf(accepted.requestId)).find((mail) => mail.subject.startsWith('Re: '))!;
      expect(reply.text.split('\n')[0]).toBe('NOT ENTITLED');
      expect(reply.cc!.map((cc) => cc.address)).toContain(service().mail.maintainer);
      expect(await keysUnder(`deliveries/${accepted.requestId}/`)).toEqual([]);
    } finally {
      for (const { block, position } of before) {
        db.prepare("DELETE FROM field_intents WHERE intent = 'OBSERVE_TARGET' AND exec_block_uid = ? AND field_position = ?").run(block, position);
      }
      db.close();
    }
  });

  test('a re-drive input written by hand and started through the Step Functions API, for a user not entitled, ends without staging or a link', async () => {
    // Prepare: as if the request had failed past its entitlement, for a stranger to proprietary data
    const requestId = `t81003-uid___A001_X2f1e_X101-${Date.now()}-crafted`;
    const request: MousRequest = {
      requestId,
      projectCode: '2022.1.00999.S',
      userName: 'Stella Stranger',
      userEmail: 'stella.stranger@example.org',
      helpdeskTicket: '81003',
      arcContact: 'arc.staff@example.org',
      mous: 'uid___A001_X2f1e_X101',
      calibratorFields: [],
      requestedAt: new Date().toISOString(),
      triggerName: 'trigger-uid___A001_X2f1e_X101-crafted.txt',
      requestMessageId: `<${requestId}@example.org>`,
      redrive: 1,
    };
    const input = {
      request,
      entitlement: { outcome: 'ENTITLED', reason: 'written by hand' },
      redrive: { attempt: 1, resumeAt: 'LookForStagedMeasurementSets', failedState: 'LookForStagedMeasurementSets', previousExecution: requestId },
    };

    // Act
    const started = await sfn().send(
      new StartExecutionCommand({ stateMachineArn: service().stateMachineArn, name: `${requestId}-redrive-1`, input: JSON.stringify(input) }),
    );
    const execution = await waitForExecution(started.executionArn!);

    // Assess
    const states = statesEntered(execution.events);
    expect(states).toEqual(['IsRedriven', 'ResumeWhereItFailed', 'CheckEntitlement', 'IsUserEntitled', 'ReplyNotEntitled', 'NotEntitled']);
    expect(await keysUnder(`deliveries/${requestId}/`)).toEqual([]);
    const mails = await mailsOf(requestId);
    expect(mails.map((mail) => mail.text.split('\n')[0])).toEqual(['NOT ENTITLED']);
    expect(mails.some((mail) => mail.text.includes('/downloads/'))).toBe(false);
  });
});
