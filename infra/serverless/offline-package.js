'use strict';

// `serverless package` without an AWS account (the test suite, CI). With QUARRY_SLS_OFFLINE=1
// the one AWS call packaging makes, CloudFormation describeStacks (to reuse an unchanged layer
// from the last deploy), answers "stack does not exist", and any other AWS call fails loudly,
// so the offline package is proven to need nothing from AWS. Deploys are unaffected.
class OfflinePackage {
  constructor(serverless) {
    if (process.env.QUARRY_SLS_OFFLINE !== '1') return;
    const provider = serverless.getProvider('aws');
    provider.request = async (service, method, params) => {
      if (service === 'CloudFormation' && method === 'describeStacks') {
        throw new Error(`Stack with id ${params.StackName} does not exist`);
      }
      throw new Error(`offline packaging made an AWS call: ${service}.${method}`);
    };
  }
}

module.exports = OfflinePackage;
