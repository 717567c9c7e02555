/**
 * The states that put data where a user can reach it, or tell the user where it is: what the data-rights tests
 * (the definition, its runs and the local cloud end to end) check that no unentitled execution reaches.
 */
export const RELEASING_STATES: readonly string[] = [
  'LookForStagedMeasurementSets',
  'CopyStagedMeasurementSets',
  'AcquireStagingSlot',
  'StageMeasurementSets',
  'PublishDelivery',
  'EmailDownloadLink',
];
