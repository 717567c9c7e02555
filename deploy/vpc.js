/**
 * The optional VPC of the functions that reach the cluster and the archive database (serverless.yml, README
 * "Deploy to AWS"): none unless CALMS_VPC_SUBNET_IDS and CALMS_VPC_SECURITY_GROUP_IDS are set (lib/config.ts
 * declares both), comma-separated. `null` is how serverless.yml says "not in a VPC".
 */
const ids = (text) =>
  String(text ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);

module.exports = async ({ resolveVariable }) => {
  const subnetIds = ids(await resolveVariable("env:CALMS_VPC_SUBNET_IDS, ''"));
  const securityGroupIds = ids(await resolveVariable("env:CALMS_VPC_SECURITY_GROUP_IDS, ''"));
  if (subnetIds.length === 0 && securityGroupIds.length === 0) return null;
  if (subnetIds.length === 0 || securityGroupIds.length === 0) {
    throw new Error('CALMS_VPC_SUBNET_IDS and CALMS_VPC_SECURITY_GROUP_IDS are set together or not at all');
  }
  return { subnetIds, securityGroupIds };
};
