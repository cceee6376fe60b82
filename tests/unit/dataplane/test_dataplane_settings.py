"""[dataplane] settings: defaults, every problem named by key, and the choice of mode with
its one log sentence (auto → kernel where ESP SAs install, else userspace; kernel refuses)."""

from __future__ import annotations

import pytest

from ikeeap.dataplane.interface import Lifetimes
from ikeeap.dataplane.settings import (
    ESP, NO_ESP, NO_XFRM, NOT_PERMITTED, DataPlaneSettings, DataPlaneSettingsError,
    DataPlaneUnavailable, KernelProbe, choose_mode,
)


def test_defaults_from_an_empty_or_missing_table():
    assert DataPlaneSettings.from_mapping({}) == DataPlaneSettings()
    assert DataPlaneSettings.from_mapping(None) == DataPlaneSettings()
    s = DataPlaneSettings()
    assert (s.mode, s.replay_window, s.tun_name, s.updown) == ("auto", 64, "ikeeap0", None)
    assert s.lifetimes() == Lifetimes(3600, 3960, 0, 0, 0, 0)


def test_every_value_is_taken():
    s = DataPlaneSettings.from_mapping({
        "mode": "kernel", "replay_window": 1024, "soft_lifetime_seconds": 100,
        "hard_lifetime_seconds": 200, "soft_lifetime_bytes": 10 ** 9,
        "hard_lifetime_bytes": 2 * 10 ** 9, "soft_lifetime_packets": 1000,
        "hard_lifetime_packets": 2000, "tun_name": "vpn0", "updown": "/etc/ikeeap/updown.sh",
        "updown_timeout": 3})
    assert s == DataPlaneSettings("kernel", 1024, 100, 200, 10 ** 9, 2 * 10 ** 9, 1000, 2000,
                                  "vpn0", "/etc/ikeeap/updown.sh", 3.0)
    assert s.lifetimes() == Lifetimes(100, 200, 10 ** 9, 2 * 10 ** 9, 1000, 2000)


def test_all_problems_at_once_each_naming_its_key():
    with pytest.raises(DataPlaneSettingsError) as info:
        DataPlaneSettings.from_mapping({
            "mode": "kernal", "replay_window": 32, "soft_lifetime_seconds": 500,
            "hard_lifetime_seconds": 400, "hard_lifetime_bytes": -1, "tun_name": "a/b",
            "updown": "updown.sh", "updown_timeout": 0, "replay": 64})
    problems = info.value.problems
    assert problems == [
        "dataplane.replay: unknown setting (known: hard_lifetime_bytes, hard_lifetime_packets, "
        "hard_lifetime_seconds, mode, replay_window, soft_lifetime_bytes, "
        "soft_lifetime_packets, soft_lifetime_seconds, tun_name, updown, updown_timeout)",
        "dataplane.mode: must be one of auto, userspace, kernel, none (got 'kernal')",
        "dataplane.replay_window: must be a whole number of packets from 64 to 4096, the "
        "largest window the kernel's ESN bitmap holds (got 32)",
        "dataplane.soft_lifetime_seconds: must be below hard_lifetime_seconds (500 >= 400): "
        "the rekey has to start before the Child SA dies",
        "dataplane.hard_lifetime_bytes: must be a whole number of bytes >= 0, 0 for no limit "
        "(got -1)",
        "dataplane.tun_name: must be a network interface name of 1 to 15 characters without "
        "'/', ':', '%' or spaces (got 'a/b')",
        "dataplane.updown: must be the absolute path of an executable script (got 'updown.sh')",
        "dataplane.updown_timeout: must be a number of seconds above 0 and at most 600 (got 0)",
    ]
    assert str(info.value) == "\n".join(problems)


@pytest.mark.parametrize("key,value", [
    ("replay_window", True), ("replay_window", 4097), ("replay_window", "64"),
    ("soft_lifetime_packets", 1.5), ("tun_name", ""), ("tun_name", "x" * 16),
    ("tun_name", "a b"), ("updown_timeout", True), ("updown_timeout", 601), ("mode", 1),
])
def test_single_bad_values(key, value):
    with pytest.raises(DataPlaneSettingsError) as info:
        DataPlaneSettings.from_mapping({key: value})
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"dataplane.{key}: ")


def test_soft_without_hard_and_empty_updown_are_fine():
    s = DataPlaneSettings.from_mapping({"soft_lifetime_bytes": 5, "hard_lifetime_seconds": 0,
                                        "updown": ""})
    assert (s.soft_lifetime_bytes, s.hard_lifetime_seconds, s.updown) == (5, 0, None)


def test_prefix_names_the_table():
    with pytest.raises(DataPlaneSettingsError) as info:
        DataPlaneSettings.from_mapping({"mode": "x"}, prefix="conf/ikeeap.toml:dataplane")
    assert info.value.problems[0].startswith("conf/ikeeap.toml:dataplane.mode: ")


ESP_OK = KernelProbe(ESP, "probe ESP SAs accepted for aes128gcm16",
                     frozenset({"rfc4106(gcm(aes))"}), frozenset({"cbc(aes)"}))
NO_ESP_PROBE = KernelProbe(NO_ESP, 'adding an ESP SA failed: Protocol not supported '
                                   '(EPROTONOSUPPORT; kernel: "Requested type not found")')
NO_XFRM_PROBE = KernelProbe(NO_XFRM, "socket(AF_NETLINK, NETLINK_XFRM) failed: Protocol not "
                                     "supported (EPROTONOSUPPORT): no CONFIG_XFRM_USER")


def test_auto_takes_the_kernel_where_esp_sas_install():
    choice = choose_mode("auto", ESP_OK)
    assert choice.mode == "kernel"
    assert choice.sentence == ("data plane: kernel XFRM (auto: the kernel installs ESP SAs: "
                               "probe ESP SAs accepted for aes128gcm16; not available: cbc(aes))")


def test_auto_falls_back_to_userspace_naming_why():
    choice = choose_mode("auto", NO_ESP_PROBE)
    assert choice.mode == "userspace"
    assert choice.sentence == (
        'data plane: userspace ESP over TUN (auto: the kernel has XFRM but no ESP: adding an '
        'ESP SA failed: Protocol not supported (EPROTONOSUPPORT; kernel: "Requested type not '
        'found"))')
    assert choose_mode("auto", NO_XFRM_PROBE).sentence.startswith(
        "data plane: userspace ESP over TUN (auto: the kernel has no XFRM: socket(")
    assert "CAP_NET_ADMIN" in choose_mode("auto", KernelProbe(NOT_PERMITTED, "EPERM")).sentence


def test_kernel_mode_refuses_to_start_with_the_reason():
    with pytest.raises(DataPlaneUnavailable) as info:
        choose_mode("kernel", NO_ESP_PROBE)
    assert str(info.value).startswith('data plane mode "kernel" cannot start: the kernel has '
                                      'XFRM but no ESP: adding an ESP SA failed: Protocol not '
                                      'supported')
    with pytest.raises(DataPlaneUnavailable, match="the kernel has no XFRM"):
        choose_mode("kernel", NO_XFRM_PROBE)
    assert choose_mode("kernel", ESP_OK).sentence.startswith("data plane: kernel XFRM "
                                                             "(configured: ")


def test_userspace_and_none_need_no_probe():
    assert choose_mode("userspace", None).mode == "userspace"
    assert choose_mode("none", None).sentence == (
        "data plane: none (configured): Child SAs are negotiated but carry no traffic")
    with pytest.raises(ValueError):
        choose_mode("auto", None)
    with pytest.raises(ValueError):
        choose_mode("fast", ESP_OK)
