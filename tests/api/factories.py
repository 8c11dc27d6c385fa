import io

from django.test import Client
from PIL import Image

from api.scopes import Scope
from api.services import api_key_create


def make_key(org, dpo, scopes=tuple(Scope.values), name="Integration"):
    """(ApiKey, plaintext) made by ``dpo`` of ``org``."""
    return api_key_create(organisation=org, name=name, scopes=list(scopes), user=dpo)


def api_client(plaintext: str | None) -> Client:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"} if plaintext else {}
    return Client(**headers)


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()
