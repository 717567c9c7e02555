/** In-memory fakes of CalMS's ports, for unit tests of the use-cases and steps. */
export * from './archive';
export * from './failures';
export * from './logger';
export * from './mailer';
export * from './requests';
export * from './sentMailLedger';
export * from './triggerStore';
export * from './workflow';
export * from './cluster';
export * from './deliveryStore';
export * from './slotStore';
export * from './statisticsStore';
export * from './cancelMarks';
export * from './jobLogStore';
export * from './stepDeps';
