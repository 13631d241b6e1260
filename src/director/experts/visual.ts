// The visual expert: what the reference picture allows. A still portrait cannot be reframed; a close-up shows
// every warp, so motion is smaller; a head already turned in the photo should not turn further; several people
// in the frame move less; a resting smile cannot be taken away by the default pack (its smile is 0..1).
import type { AvoidClaim, Change, Claim, Critique, DraftPlan, Expert, PlanContext, Proposal } from './types.ts';

const AMPLITUDE_CAP = { 'close-up': 0.6, medium: 0.8, wide: 1 } as const;

export class VisualExpert implements Expert {
  readonly name = 'visual' as const;

  propose(ctx: PlanContext): Proposal {
    const claims: Claim[] = [];
    const avoid: AvoidClaim[] = [];
    const notes: string[] = [];
    const span = { startUs: ctx.startUs, endUs: ctx.endUs };
    const p = ctx.portrait;
    if (!p) {
      notes.push('no portrait facts: defaults (medium framing)');
      claims.push({ field: 'camera', value: 'medium', ...span, source: 'default', confidence: 0.5, reason: 'no portrait facts' });
      return { expert: this.name, cuts: [], claims, gestures: [], avoid, notes };
    }
    const pct = Math.round(p.faceHeightRatio * 100);
    notes.push(`the photo is a ${p.framing} (face ${pct}% of the height), ${p.people} ${p.people === 1 ? 'person' : 'people'}`);
    claims.push({ field: 'camera', value: p.framing, ...span, source: 'portrait', confidence: 1, reason: `the photo is a ${p.framing} (face ${pct}% of the height); a still picture is not reframed` });
    claims.push({ field: 'motionAmplitude', value: AMPLITUDE_CAP[p.framing] * 0.75, ...span, source: 'portrait', confidence: 0.5, reason: `a ${p.framing} shows warps ${p.framing === 'close-up' ? 'clearly: keep motion small' : 'moderately'}` });
    claims.push({ field: 'gaze', value: 'camera', ...span, source: 'portrait', confidence: 0.5, reason: 'a portrait addresses the viewer' });
    avoid.push({ what: 'frozen-face', ...span, source: 'portrait', reason: 'a still photo must come alive (blinks, breath, small motion)' });
    if (p.framing === 'close-up') avoid.push({ what: 'exaggerated-mouth', ...span, source: 'portrait', reason: 'in a close-up a big mouth warp tears' }, { what: 'fast-head-motion', ...span, source: 'portrait', reason: 'in a close-up fast head motion smears' });
    if (p.people > 1) avoid.push({ what: 'fast-head-motion', ...span, source: 'portrait', reason: 'several people share the frame: the warp would drag the others' });
    if (p.pose) {
      const deg = (v: number) => `${(v * 15).toFixed(0)} deg`;
      notes.push(`head pose in the photo: yaw ${deg(p.pose.yaw)}, pitch ${deg(p.pose.pitch)}, roll ${deg(p.pose.roll)} (rough, from landmarks)`);
      if (Math.abs(p.pose.yaw) > 0.8) avoid.push({ what: 'look-away', ...span, source: 'portrait', reason: `the head is already turned ${deg(p.pose.yaw)}: turning further would stretch the warp` });
    }
    if (p.rest) {
      notes.push(`at rest: mouth corners ${p.rest.smile > 0.04 ? 'up (smiling)' : p.rest.smile < -0.04 ? 'down' : 'level'}, lips ${p.rest.lipsApart > 0.08 ? 'apart' : 'closed'}`);
      if (p.rest.smile > 0.04) claims.push({ field: 'emotion', value: 'happy', ...span, source: 'portrait', confidence: 0.3, reason: 'the portrait smiles at rest' }, { field: 'intensity', value: 0.3, ...span, source: 'portrait', confidence: 0.3, reason: 'the portrait smiles at rest' });
      if (p.rest.lipsApart > 0.08) avoid.push({ what: 'exaggerated-mouth', ...span, source: 'portrait', reason: 'the lips are already apart in the photo' });
    }
    return { expert: this.name, cuts: [], claims, gestures: [], avoid, notes };
  }

  critique(ctx: PlanContext, draft: Readonly<DraftPlan>): Critique {
    const changes: Change[] = [];
    const notes: string[] = [];
    const p = ctx.portrait;
    if (!p) return { expert: this.name, changes, notes: ['no portrait facts to check against'] };
    const cap = p.people > 1 ? 0.5 : AMPLITUDE_CAP[p.framing];
    draft.shots.forEach((shot, i) => {
      if (shot.camera.value !== p.framing) changes.push({ kind: 'set', shot: i, field: 'camera', value: p.framing, source: 'portrait', reason: `the picture is a ${p.framing}` });
      if (shot.motionAmplitude.value > cap) changes.push({ kind: 'set', shot: i, field: 'motionAmplitude', value: cap, source: 'portrait', reason: `a ${p.people > 1 ? 'group picture' : p.framing} warps visibly above ${cap}` });
      if (p.rest && p.rest.smile > 0.04 && (shot.emotion.value === 'sad' || shot.emotion.value === 'serious')) {
        notes.push(`shot ${i}: ${shot.emotion.value}, but the portrait smiles at rest and the default pack cannot lower a smile below the photo's`);
      }
    });
    if (changes.length === 0 && notes.length === 0) notes.push('framing and motion fit the picture');
    return { expert: this.name, changes, notes };
  }
}
