// Jest project workflow-fly: the workflow suites run on the Fly adapter against the fake Fly API.
process.env.SLIPWAY_TEST_PROVIDER = 'fly';
