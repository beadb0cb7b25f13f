"""The scale bench's closed loop in SimPy, the reference `cargo bench --bench simpy` runs beside quotasim.

C threads each send a request, wait for its response (exponential, mean 500 ms) and send the next; the API
admits C attempts per clock second (a fixed one-second window); a throttled attempt's reply takes 10 ms,
then the thread waits 1 s and retries, giving up after 10 attempts. Times are integer nanoseconds, as in
quotasim. Prints the attempts made and the seconds the simulation took (the run alone, not start-up).

    python3 benches/simpy_closed_loop.py THREADS SECONDS [SEED]
"""

import random
import sys
import time

import simpy

SECOND = 1_000_000_000
MEAN = 500_000_000
THROTTLE = 10_000_000
WAIT = SECOND
MAX_ATTEMPTS = 10


def main():
    threads = int(sys.argv[1])
    end = int(sys.argv[2]) * SECOND
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    env = simpy.Environment()
    state = {"window": -1, "count": 0, "attempts": 0}

    def admit(now):
        window = now // SECOND
        if window != state["window"]:
            state["window"], state["count"] = window, 0
        if state["count"] < threads:
            state["count"] += 1
            return True
        return False

    def thread(env):
        while True:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                state["attempts"] += 1
                if admit(env.now):
                    yield env.timeout(round(rng.expovariate(1.0) * MEAN))
                    break
                # The throttle's reply, then the retry's wait: the two events quotasim schedules.
                yield env.timeout(THROTTLE)
                if attempt < MAX_ATTEMPTS:
                    yield env.timeout(WAIT)

    for _ in range(threads):
        env.process(thread(env))
    began = time.perf_counter()
    env.run(until=end)
    took = time.perf_counter() - began
    print(state["attempts"], took)


if __name__ == "__main__":
    main()
