// Alternating credentials (the "alternating users" scheme of managed secret rotators): a credential has two slots,
// `a` (the one that existed before rotation was introduced) and `b`, each with its own rotation token. The
// Secret clients read holds the active slot; the inactive slot stays valid until it is retired. One rotation is
// three applies: (1) bump the inactive slot's token (its new password becomes valid beside the active one),
// (2) make it active (the Secret switches, the clients roll), (3) retire the old slot (it stops working).
// Imports nothing.

export const ROTATION_SLOTS = ['a', 'b'] as const;
export type RotationSlot = (typeof ROTATION_SLOTS)[number];

/** Where one credential is in its rotation. A plain token means `{ a: token }` (slot a only, as before). */
export interface AlternatingRotation {
  /** Rotation token of slot a (the credential that exists before any alternating rotation). @default '0' */
  readonly a?: string;
  /** Rotation token of slot b; slot b exists once this is set. @default no slot b */
  readonly b?: string;
  /** The slot the clients use (the Secret's value). @default 'a' */
  readonly active?: RotationSlot;
  /** The inactive slot stops working (after the clients rolled onto the active one). @default false */
  readonly retireInactive?: boolean;
}

/** A credential's rotation state with every default filled in. */
export interface RotationState {
  readonly a: string;
  readonly b: string | undefined;
  readonly active: RotationSlot;
  readonly retireInactive: boolean;
}

/** The keys an AlternatingRotation object may have. */
export const ALTERNATING_ROTATION_KEYS = ['a', 'b', 'active', 'retireInactive'] as const;

/** Defaults filled in; a plain token is slot a's. Assumes a validated value. */
export function rotationState(value: string | AlternatingRotation | undefined): RotationState {
  if (value === undefined || typeof value === 'string') return { a: value ?? '0', b: undefined, active: 'a', retireInactive: false };
  return { a: value.a ?? '0', b: value.b, active: value.active ?? 'a', retireInactive: value.retireInactive ?? false };
}

/** The slots whose credential is valid now: the active one, and the inactive one while it exists and is not retired. */
export function liveSlots(state: RotationState): readonly RotationSlot[] {
  const inactive: RotationSlot = state.active === 'a' ? 'b' : 'a';
  const inactiveExists = inactive === 'a' || state.b !== undefined;
  return inactiveExists && !state.retireInactive ? ROTATION_SLOTS : [state.active];
}

/** The token of the active slot. */
export function activeToken(state: RotationState): string {
  return state.active === 'a' ? state.a : (state.b ?? '0');
}

/**
 * What identifies the active credential without revealing it: slot a keeps the pre-rotation form (the token
 * alone) so a credential that never alternated keeps its version; slot b is `b:<token>`.
 */
export function activeVersion(state: RotationState): string {
  return state.active === 'a' ? state.a : `b:${activeToken(state)}`;
}
