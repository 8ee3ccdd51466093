"""The SpendLogs row generator: COPY text lines, in startTime order, the way LiteLLM fills each column."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from operator import itemgetter
from statistics import NormalDist

from exporter.local.demodata import catalog as cat
from exporter.local.demodata.profiles import Dep, KeyProfile, bare_dep, error_info, expand, message_for
from exporter.local.demodata.rollup import Aggregates
from exporter.local.demodata.schema import BASE_COLUMNS, OPTIONAL_COLUMNS
from exporter.local.demodata.textfmt import NULL, ts_formatter
from exporter.local.demodata.timeline import Timing

NORM = [NormalDist().inv_cdf((i + 0.5) / 4096) for i in range(4096)]
PROVIDER_ERROR_P = 0.025
CACHE_HIT_P = 0.03
RETRY_P = 0.006
UNKNOWN_KEY_P = 0.002
UNKNOWN_MODEL_P = 0.002
PROMPT_TOO_LONG_P = 0.004
STALL_P = 0.002


def _deployment(dep: Dep) -> cat.Deployment:
    """The deployment a request was routed to (only the bare deps of the proxy's own rejections have none)."""
    if dep.d is None:
        raise ValueError(f"{dep.frag.split(chr(9))[0]!r} has no deployment, but a request was routed to it")
    return dep.d


class RowGen:
    def __init__(
        self,
        rng: random.Random,
        profiles: list[KeyProfile],
        weights: list[float],
        unknown: list[KeyProfile],
        optional_present: list[str],
        has_status: bool,
    ):
        self.rng = rng
        self.keys = expand(list(zip(profiles, weights)), 1024)
        self.unknown = unknown
        self.opt_idx = [OPTIONAL_COLUMNS.index(c) for c in optional_present]
        self.has_status = has_status
        self.err = dict(cat.ERRORS)
        self.provider_errors = expand([(cat.ERRORS[n], w) for n, w in cat.PROVIDER_ERRORS], 64)
        self.unknown_model = bare_dep("unknown-model")
        self._static_errors: dict[tuple, str] = {}

    @property
    def columns(self) -> list[str]:
        return BASE_COLUMNS + [OPTIONAL_COLUMNS[i] for i in self.opt_idx]

    def _static_error(self, kind: cat.ErrorKind, dep, kp: KeyProfile) -> str:
        k = (kind.name, dep.group, dep.provider, kp.token)
        s = self._static_errors.get(k)
        if s is None:
            provider = "" if kind.name in ("unknown_key", "model_access", "unknown_model") else dep.provider
            s = self._static_errors[k] = error_info(kind, message_for(kind, dep, kp), provider)
        return s

    def generate(
        self, times: Iterator[int], n_rows: int, timing: Timing, chunk_rows: int
    ) -> Iterator[tuple[list[str], Aggregates]]:
        """Yield (COPY lines, their rollup aggregates): about chunk_rows lines each, n_rows in total."""
        rng = self.rng
        rnd, bits, uni = rng.random, rng.getrandbits, rng.uniform
        norm = NORM  # standard normal variates: norm[bits(12)] (4096 quantiles, fast and good enough)
        fmt = ts_formatter()
        keys, nkeys, unknown = self.keys, len(self.keys), self.unknown
        opt_sel = itemgetter(*self.opt_idx) if len(self.opt_idx) > 1 else None
        opt_one = self.opt_idx[0] if len(self.opt_idx) == 1 else None
        err, perr, nperr = self.err, self.provider_errors, len(self.provider_errors)
        st_ok = '"success"' if not self.has_status else "null"
        st_fail = '"failure"'
        late = [0]  # created_at of a request written late (0: written right after it ended)
        end_ms = timing.end_ms
        held: list[tuple[int, int, list[str]]] = []  # (release time, order, lines) of requests written late
        lines: list[str] = []
        agg = Aggregates()
        exp = math.exp

        def emit(
            rid,
            call_id,
            kp,
            dep,
            t,
            e,
            cst,
            spend,
            pt,
            ct,
            md_core,
            cache_hit,
            cache_key,
            eu,
            sess,
            failed,
            created,
            retry,
            cr,
            cw,
            out,
        ):
            ua, mid, tail_md = kp.md_key  # members in jsonb's key order (see profiles.jsonb_order)
            md = (
                f'{{"status": {st_fail if failed else st_ok}, "user_agent": {ua}, {md_core}, {mid}, '
                f'"billed_retry_attempt": {"true" if retry else "false"}, "original_model_group": '
                f"{dep.md_group}, {tail_md}}}"
            )
            if late[0]:
                created = max(late[0], e)
            created_s, end_s = fmt(created), fmt(e)
            opt = (
                "{}",
                "{}",
                "{}",
                sess,
                "failure" if failed else "success",
                NULL,
                kp.org_s,
                NULL,
                str(e - t),
                created_s,
                created_s,
                call_id,
                NULL,
            )
            tail = "\t".join(opt_sel(opt)) if opt_sel else (opt[opt_one] if opt_one is not None else None)
            tags = kp.tags[int(rnd() * len(kp.tags))]
            out.append(
                f"{rid}\t{dep.call_type}\t{kp.token}\t{spend!r}\t{pt + ct}\t{pt}\t{ct}\t{fmt(t)}\t{end_s}\t"
                f"{end_s if cst == e else fmt(cst)}\t{dep.frag}\t{kp.user_s}\t{md}\t{cache_hit}\t{cache_key}\t{tags}\t"
                f"{kp.team_s}\t{eu}\t{kp.ip}{chr(9) + tail if tail is not None else ''}\n"
            )
            # the in-memory rollups LiteLLM's DBSpendUpdateWriter keeps (daily tables, entity spend)
            k = (t // 86_400_000, kp, dep, eu, tags)
            a = agg.fine.get(k)
            if a is None:
                a = agg.fine[k] = [0, 0, 0.0, 0, 0, 0, 0, 0, 0, 0, rid]
            a[0] += pt  # prompt, completion, spend, api/ok/failed requests, cache read/write, time, timed
            a[1] += ct
            a[2] += spend
            a[6] += cr
            a[7] += cw
            if not retry:  # a billed retry attempt is not a request the caller sent
                a[3] += 1
                if failed:
                    a[5] += 1
                else:
                    a[4] += 1
                    a[8] += e - t
                    a[9] += 1
            if spend:
                h = (kp, t // 3_600_000)
                agg.keys[h] = agg.keys.get(h, 0.0) + spend
                if eu:
                    h = (eu, t // 3_600_000)
                    agg.end_users[h] = agg.end_users.get(h, 0.0) + spend

        def request(t: int, slots: int, out: list[str]) -> int:
            kp = unknown[int(rnd() * 3)] if rnd() < UNKNOWN_KEY_P else keys[int(rnd() * nkeys)]
            dep = kp.deps[int(rnd() * len(kp.deps))]
            kind = None
            if kp.unknown:
                kind = err["unknown_key"]
            elif t >= kp.blocked_from:
                kind = err["blocked_key"]
            elif t >= kp.expires_ms:
                kind = err["expired_key"]
            else:
                r = rnd()
                if r < kp.c_access:
                    kind = (
                        err["proxy_rate_limit"]
                        if r < kp.c_rl
                        else err["key_budget"]
                        if r < kp.c_budget
                        else err["model_access"]
                    )
                    if kind.name == "model_access":
                        dep = kp.denied
                elif r < kp.c_access + UNKNOWN_MODEL_P:
                    kind, dep = err["unknown_model"], self.unknown_model
                elif dep.always_fail:
                    kind = err["invalid_slug"]
                elif dep.absurd_target and rnd() < kp.absurd:
                    kind = err["context_output"]
                elif dep.big_context and rnd() < PROMPT_TOO_LONG_P:
                    kind = err["context_prompt"]
                elif rnd() < PROVIDER_ERROR_P:
                    kind = perr[int(rnd() * nperr)]
                    if kind.name == "content_policy" and dep.provider != "azure":
                        kind = err["provider_rate_limit"]
            if kind and kind.gateway:  # rejected before routing: no tokens, and `d` is neither needed nor bound
                pt = 0
            else:  # routed to a deployment: only the bare deps of gateway rejections have none
                d = _deployment(dep)
                pt = int(exp(kp.p_mu + 0.9 * norm[bits(12)])) + 12
                if rnd() < 0.01:
                    pt *= 12
                if pt > d.context * 0.9:
                    pt = int(d.context * 0.9 * rnd()) + 100
            h = f"{bits(256):064x}"  # the call id, and a trace id that becomes the session id on most rows
            call_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
            eu = kp.end_users[int(rnd() * len(kp.end_users))] if kp.end_users and rnd() < kp.end_user_p else ""
            r = rnd()
            sess = (
                NULL
                if r < 0.08
                else (
                    kp.sessions[int(rnd() * len(kp.sessions))]
                    if r < 0.3 and kp.sessions
                    else f"{h[32:40]}-{h[40:44]}-4{h[45:48]}-b{h[49:52]}-{h[52:]}"
                )
            )
            if r < 0.3 and (not kp.sessions or rnd() < 0.05):
                s = f"sess-{bits(48):012x}"
                kp.sessions.append(s) if len(kp.sessions) < 8 else kp.sessions.__setitem__(int(rnd() * 8), s)
            if kind is not None:
                if kind.gateway:
                    dur = int(uni(50, 200))
                elif kind.name == "timeout":
                    dur = 600_000 + int(rnd() * 50)
                else:
                    dur = int(uni(100, 600) if kind.name.startswith("context") else exp(6.5 + norm[bits(12)]))
                name = kind.name
                if name == "context_output":
                    out_budget = 720_000 if rnd() < 0.8 else (500_000, 300_000, 1_000_000)[int(rnd() * 3)]
                    ei = error_info(
                        kind,
                        message_for(
                            kind, dep, kp, context=d.context, total=pt + out_budget, input=pt, output=out_budget
                        ),
                        dep.provider,
                    )
                elif name == "context_prompt":
                    pt = d.context + int(rnd() * 40_000) + 1
                    ei = error_info(kind, message_for(kind, dep, kp, context=d.context, input=pt), dep.provider)
                elif name == "expired_key":
                    ei = error_info(kind, message_for(kind, dep, kp, expires=kp.expires_text, now=fmt(t)[:19]), "")
                elif name == "key_budget":
                    spend_now = round(uni(1.0, 1.3) * 50, 6)
                    ei = error_info(kind, message_for(kind, dep, kp, spend=spend_now, limit=50.0), dep.provider)
                else:
                    ei = self._static_error(kind, dep, kp)
                if t + dur > end_ms:
                    dur = max(1, end_ms - t)
                e = t + dur
                md_core = (
                    f'"usage_object": {{}}, "cost_breakdown": null, "litellm_call_id": "{call_id}", '
                    f'"attempted_retries": 0, "error_information": {ei}'
                )
                created = min(e + 500 + int(rnd() * 14_000), end_ms)
                emit(
                    call_id,
                    call_id,
                    kp,
                    dep,
                    t,
                    e,
                    e,
                    0.0,
                    pt,
                    0,
                    md_core,
                    "False",
                    "Cache OFF",
                    eu,
                    sess,
                    True,
                    max(created, e),
                    False,
                    0,
                    0,
                    out,
                )
                return 1
            # a successful request, maybe a cache hit, maybe after billed retry attempts
            ct = 0 if dep.embed else min(int(exp(kp.c_mu + 0.8 * norm[bits(12)])) + 1, 16_000)
            cr = cw = 0
            if d.cache_style and rnd() < 0.35:
                cr = int(pt * uni(0.3, 0.9)) if d.cache_style == "anthropic" else (pt * 3 // 4) // 128 * 128
                if d.cache_style == "anthropic" and rnd() < 0.15:
                    cw = int((pt - cr) * 0.8)
            in_cost = (pt - cr - cw) * d.price_in + cr * d.price_cache_read + cw * d.price_cache_write
            out_cost = ct * d.price_out
            rid = f"chatcmpl-{call_id}" if not dep.embed else call_id
            hit = not dep.embed and rnd() < CACHE_HIT_P
            stream = not hit and not dep.embed and rnd() < kp.stream
            if hit:
                dur = 3 + int(rnd() * 40)
                ttft = dur
            elif dep.embed:
                dur = ttft = 40 + int(exp(4.5 + 0.5 * norm[bits(12)]))
            else:
                ttft = 15 + int(rnd() * 50) + int(d.ttft_ms * exp(0.5 * norm[bits(12)]))
                dur = ttft + 1 + int(ct / d.tps * 1000 * exp(0.3 * norm[bits(12)]))
                if rnd() < STALL_P:
                    dur += int(uni(60_000, 420_000))
            attempts = []
            if not hit and not dep.embed and slots > 1 and rnd() < RETRY_P and t + 900_000 < end_ms:
                for n in range(1, min(1 + int(rnd() * 2), slots - 1) + 1):
                    attempts.append((n, perr[int(rnd() * nperr)], int(exp(7.5 + 0.7 * norm[bits(12)]))))
            pre = sum(a[2] for a in attempts)
            if t + pre + dur > end_ms:
                dur = max(2, end_ms - t - pre)
                ttft = min(ttft, dur - 1)
            at = t
            for n, kind, adur in attempts:
                apt, act = pt, int(rnd() * 40)
                aspend = apt * d.price_in + act * d.price_out
                ei = self._static_error(kind, dep, kp)
                md_core = (
                    f'"usage_object": {{"total_tokens": {apt + act}, "prompt_tokens": {apt}, '
                    f'"completion_tokens": {act}}}, "cost_breakdown": {{"total_cost": {aspend!r}}}, '
                    f'"litellm_call_id": "{call_id}-attempt-{n}", "attempted_retries": {n}, '
                    f'"error_information": {ei}'
                )
                ae = at + adur
                emit(
                    f"{rid}-attempt-{n}",
                    f"{call_id}-attempt-{n}",
                    kp,
                    dep,
                    at,
                    ae,
                    ae,
                    aspend,
                    apt,
                    act,
                    md_core,
                    "False",
                    "Cache OFF",
                    eu,
                    sess,
                    True,
                    min(ae + 800, end_ms),
                    True,
                    0,
                    0,
                    out,
                )
                at = ae
            e = t + pre + dur
            spend = 0.0 if hit else in_cost + out_cost
            if hit:
                rid = f"{rid}_cache_hit{t / 1000 + rnd() / 1000:.6f}"
            if d.cache_style == "anthropic":
                usage = (
                    f'{{"total_tokens": {pt + ct}, "prompt_tokens": {pt}, "completion_tokens": {ct}, '
                    f'"cache_read_input_tokens": {cr}, "cache_creation_input_tokens": {cw}}}'
                )
            elif d.cache_style == "openai" and cr:
                usage = (
                    f'{{"total_tokens": {pt + ct}, "prompt_tokens": {pt}, "completion_tokens": {ct}, '
                    f'"prompt_tokens_details": {{"cached_tokens": {cr}}}}}'
                )
            else:
                usage = f'{{"total_tokens": {pt + ct}, "prompt_tokens": {pt}, "completion_tokens": {ct}}}'
            cb = (
                "null"
                if hit
                else f'{{"input_cost": {in_cost!r}, "total_cost": {spend!r}, "output_cost": {out_cost!r}}}'
            )
            md_core = (
                f'"usage_object": {usage}, "cost_breakdown": {cb}, "litellm_call_id": "{call_id}", '
                f'"attempted_retries": {len(attempts)}, "error_information": null'
            )
            cst = t + pre + ttft if stream else e
            created = max(min(e + 500 + int(rnd() * 14_000), end_ms), e)
            emit(
                rid,
                call_id,
                kp,
                dep,
                t,
                e,
                cst,
                spend,
                pt,
                ct,
                md_core,
                "True" if hit else "None",
                f"{bits(128):032x}" if hit else "Cache OFF",
                eu,
                sess,
                False,
                created,
                False,
                cr,
                cw,
                out,
            )
            return 1 + len(attempts)

        done = 0
        nxt = iter(times).__next__
        hold_p, back_p = timing.hold_p, timing.back_p
        while done < n_rows:
            t = nxt()
            if back_p and rnd() < back_p:
                # written now, but started well before the window (LiteLLM flushed it late)
                late[0] = min(max(t, timing.window_start_ms) + int(uni(500, 10_000)), end_ms)
                done += request(timing.window_start_ms - int(uni(*timing.back_ms)), 1, lines)
                late[0] = 0
            elif hold_p and rnd() < hold_p:
                buf: list[str] = []
                release = min(t + int(uni(*timing.hold_ms)), end_ms - 1)
                late[0] = release
                done += request(t, 1, buf)
                late[0] = 0
                heapq.heappush(held, (release, done, buf))
            else:
                k = request(t, n_rows - done, lines)
                done += k
                for _ in range(k - 1):  # one time slot per row, so the window stays filled up to its end
                    nxt()
            while held and held[0][0] <= t:
                lines.extend(heapq.heappop(held)[2])
            if len(lines) >= chunk_rows:
                yield lines, agg
                lines, agg = [], Aggregates()
        while held:
            lines.extend(heapq.heappop(held)[2])
        if lines:
            yield lines, agg
