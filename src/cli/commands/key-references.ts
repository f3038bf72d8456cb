// `caracal-migrate key-references --hmac-key-id ID --encryption-key-id ID`: the check before a key leaves its key ring
// (docs/operations.md#hmac-and-encryption-keys): counts the rows that still reference each id. Exit 0 when none does
// (the key may be retired), 4 while any does (re-encrypt / re-hash those rows, or wait for them to expire).
import { connect, describeConnection } from '../../migrate/connection';
import { ExitCode } from '../../migrate/errors';
import { UsageError } from '../args';
import { countKeyReferences } from '../../keys/references';
import { connectionFrom, Flags, keyIdsFlag } from '../flags';
import type { Output } from '../output';

export async function run(flags: Flags, out: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const ids = { hmac: keyIdsFlag(flags, 'hmac-key-id'), encryption: keyIdsFlag(flags, 'encryption-key-id') };
  if (ids.hmac.length + ids.encryption.length === 0)
    throw new UsageError('key-references needs at least one --hmac-key-id or --encryption-key-id: the ids leaving a key ring');
  const connection = connectionFrom(flags, out, env);
  out.progress(`counting key references in ${describeConnection(connection)}`);
  const client = await connect(connection);
  try {
    const { countedAs, counts } = await countKeyReferences(client, ids);
    const referenced = counts.filter((c) => c.rows > 0);
    if (flags.json) out.json({ ok: referenced.length === 0, countedAs, counts });
    else {
      for (const c of counts) out.stdout(`${c.kind} key ${c.keyId}: ${c.rows} rows in ${c.table}.${c.column}`);
      out.stdout(
        referenced.length === 0
          ? `no row references ${[...ids.hmac, ...ids.encryption].join(', ')} (counted as ${countedAs}): they may leave the key ring`
          : `REFUSED: ${[...new Set(referenced.map((c) => c.keyId))].join(', ')} still referenced; re-encrypt or re-hash those rows (or let them expire) first`,
      );
    }
    return referenced.length === 0 ? ExitCode.OK : ExitCode.CHECK_FAILED;
  } finally {
    await client.end();
  }
}
