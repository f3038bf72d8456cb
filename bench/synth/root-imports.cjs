// Peer variant for bench/synth: loads the three providers from their package roots before the app runs,
// which is what `import { ... } from '@cdktf/provider-kubernetes'` costs (each root requires every resource).
require('@cdktf/provider-kubernetes');
require('@cdktf/provider-helm');
require('@cdktf/provider-random');
