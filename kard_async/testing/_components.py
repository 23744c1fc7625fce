"""UI components (``supportedComponents``) computed for offers and placement slots."""

from __future__ import annotations

from typing import Any

from ._seed import SeedOffer, SeedPlacement, SeedSlot


def _reward_text(offer: SeedOffer, multiplier: float = 1.0) -> str:
    value = offer.reward_value * multiplier
    if offer.reward_type == "PERCENT":
        return f"{round(value, 1):g}%"
    return f"${value / 100:.2f}"


def offer_components(offer: SeedOffer, wanted: list[str], user_path: str) -> dict[str, Any]:
    """Components for one offer; ``user_path`` is ``/v2/issuers/{org}/users/{user}`` (raw)."""
    components: dict[str, Any] = {}
    base = _reward_text(offer)
    where = " or ".join(
        {"INSTORE": "in store", "ONLINE": "online"}[channel] for channel in offer.channels
    )
    for name in wanted:
        if name == "shortDescription":
            components[name] = f"{base} back"
        elif name == "longDescription":
            components[name] = (
                f"Earn {base} cash back when you shop at {offer.name} {where} with your card. "
                "Activate the offer, then pay as usual; the reward lands in your account after "
                "the purchase settles."
            )
        elif name == "baseReward":
            components[name] = base
        elif name == "boostedReward":
            components[name] = _reward_text(offer, 1.5)
        elif name == "tags":
            tags = ["Online" if c == "ONLINE" else "In store" for c in offer.channels]
            if offer.is_targeted:
                tags.append("For you")
            components[name] = tags
        elif name == "detailTags":
            components[name] = [f"Expires {offer.expiration_date[:10]}", offer.category]
        elif name == "cta":
            components[name] = {
                "buttonText": "Activate offer",
                "buttonStyle": "PRIMARY",
                "action": {"url": f"{user_path}/offers/{offer.id}/activate", "method": "POST"},
            }
        elif name == "logoFlare":
            flare: dict[str, Any] = {"borderColor": "PRIMARY" if offer.is_targeted else "SECONDARY"}
            if offer.is_targeted:
                flare["badge"] = {"icon": "star", "position": "TOP_RIGHT"}
            components[name] = flare
        elif name == "progressBar" and offer.max_redemptions is not None:
            total = offer.max_redemptions
            components[name] = {
                "total": total,
                "currentProgress": 0,
                "label": f"0 of {total} rewards earned",
                "segmented": total > 1,
                "labels": {
                    "default": {"left": "0 earned", "right": f"{total} max"},
                    "details": {"left": "Progress", "right": f"0/{total}"},
                },
                "segments": {
                    "default": {"position": "FULL_WIDTH", "separator": "LINE"},
                    "progress": [{"completed": 0, "total": 1} for _ in range(total)],
                },
            }
    return components


def slot_components(
    placement: SeedPlacement, slot: SeedSlot, user_path: str, activated: bool
) -> dict[str, Any]:
    """Slot copy plus either a ``cta`` (not yet activated) or a ``logoFlare`` (activated)."""
    days = placement.refresh_interval_days
    components: dict[str, Any] = {
        "shortDescription": f"Activate {slot.name} for {days} days",
        "longDescription": (
            f"Activate once to unlock every {slot.name.lower()} offer in this group. "
            f"Activation lasts {days} days; come back afterwards to refresh it."
        ),
    }
    if activated:
        components["logoFlare"] = {
            "borderColor": "PRIMARY",
            "badge": {"icon": "check", "position": "BOTTOM_RIGHT"},
        }
    else:
        components["cta"] = {
            "buttonText": "Activate all",
            "buttonStyle": "PRIMARY",
            "action": {
                "url": f"{user_path}/placements/{placement.id}/slot/{slot.id}/activate",
                "method": "POST",
            },
        }
    return components
