"""A test PKI built with ``cryptography``: root CA, document signer, time-stamping authority.

Keys are EC P-256 where the role allows it (fast to generate); pyHanko's DummyTimeStamper needs
an RSA key, so the TSA gets a 2048-bit one. Built once per session: key generation is the cost.
"""

import datetime
from dataclasses import dataclass

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SIGNER_P12_PASSWORD = "correct-horse-p12"


@dataclass
class Party:
    key: object
    cert: x509.Certificate

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class TestPKI:
    root: Party
    signer: Party
    tsa: Party
    expired_signer: Party
    no_signing_usage: Party

    def pkcs12(self, party: Party, password: str = SIGNER_P12_PASSWORD) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            b"signer",
            party.key,
            party.cert,
            [self.root.cert],
            serialization.BestAvailableEncryption(password.encode()),
        )

    def dummy_timestamper(self):
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        der = serialization.Encoding.DER
        return DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(self.tsa.cert.public_bytes(der)),
            tsa_key=asn1_keys.PrivateKeyInfo.load(
                self.tsa.key.private_bytes(
                    der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            ),
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Constancia Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    *,
    common_name,
    key,
    issuer: Party | None,
    ca=False,
    key_usage=None,
    eku=None,
    not_before=None,
    not_after=None,
):
    now = datetime.datetime.now(datetime.UTC)
    not_before = not_before or now - datetime.timedelta(days=1)
    not_after = not_after or now + datetime.timedelta(days=365)
    subject = _name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    usage = {
        "digital_signature": False,
        "content_commitment": False,
        "key_encipherment": False,
        "data_encipherment": False,
        "key_agreement": False,
        "key_cert_sign": False,
        "crl_sign": False,
        "encipher_only": False,
        "decipher_only": False,
    }
    usage.update(key_usage or {})
    builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    signing_key = issuer.key if issuer else key
    return Party(key=key, cert=builder.sign(signing_key, hashes.SHA256()))


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _issue(
        common_name="Test Root CA",
        key=root_key,
        issuer=None,
        ca=True,
        key_usage={"key_cert_sign": True, "crl_sign": True},
    )
    signing = {"digital_signature": True, "content_commitment": True}
    signer = _issue(
        common_name="Clínica Dental Norte S.L.",
        key=ec.generate_private_key(ec.SECP256R1()),
        issuer=root,
        key_usage=signing,
    )
    tsa = _issue(
        common_name="Test TSA",
        key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        issuer=root,
        key_usage={"digital_signature": True},
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
    )
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    expired_signer = _issue(
        common_name="Expired signer",
        key=ec.generate_private_key(ec.SECP256R1()),
        issuer=root,
        key_usage=signing,
        not_before=long_ago,
        not_after=long_ago + datetime.timedelta(days=365),
    )
    no_signing_usage = _issue(
        common_name="Encryption only",
        key=ec.generate_private_key(ec.SECP256R1()),
        issuer=root,
        key_usage={"key_agreement": True},
    )
    return TestPKI(
        root=root,
        signer=signer,
        tsa=tsa,
        expired_signer=expired_signer,
        no_signing_usage=no_signing_usage,
    )
