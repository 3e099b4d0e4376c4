"""Development tooling shared by the tests and the benchmarks (never imported by the product):
throwaway PostgreSQL / redis-server (``services``), the production topology on loopback (``stack``)
and the WeChat server simulator (``wechat_sim``)."""
