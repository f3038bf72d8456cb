// cdktf's Jest matchers (toHaveResource, toHaveResourceWithProperties, toBeValidTerraform, ...).
const { Testing } = require('cdktf');
Testing.setupJest();
