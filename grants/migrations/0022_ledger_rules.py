"""Books that tie out: gifts can be voided, references are used once, fund currencies split
exactly, and on PostgreSQL the journal refuses TRUNCATE and lines added to an entry posted by an
earlier transaction.

PostgreSQL: each entry records the top-level transaction id that inserted it (``created_txid``,
set by a trigger from ``txid_current()``: Django's savepoints are subtransactions and share it),
and a line is accepted only from that same transaction. Entries posted before this migration
have no id, so no line can be added to them either. ``TRUNCATE`` of either table is refused by
statement-level triggers (test databases are flushed with ``session_replication_role = replica``,
see tests/conftest.py). The column is not a model field: only the database reads it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import grants.models.funds

POSTGRES = """
ALTER TABLE grants_journalentry ADD COLUMN created_txid bigint;

CREATE OR REPLACE FUNCTION grants_journalentry_stamp_txid() RETURNS trigger AS $$
BEGIN
    NEW.created_txid := txid_current();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grants_journalentry_stamp_txid BEFORE INSERT ON grants_journalentry
    FOR EACH ROW EXECUTE FUNCTION grants_journalentry_stamp_txid();

CREATE OR REPLACE FUNCTION grants_journalline_same_transaction() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM grants_journalentry WHERE id = NEW.entry_id AND created_txid = txid_current()
    ) THEN
        RAISE EXCEPTION 'journal entry % was posted by an earlier transaction: its lines cannot change',
            NEW.entry_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grants_journalline_same_transaction BEFORE INSERT ON grants_journalline
    FOR EACH ROW EXECUTE FUNCTION grants_journalline_same_transaction();

CREATE TRIGGER grants_journalentry_no_truncate BEFORE TRUNCATE ON grants_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION grants_journal_append_only();
CREATE TRIGGER grants_journalline_no_truncate BEFORE TRUNCATE ON grants_journalline
    FOR EACH STATEMENT EXECUTE FUNCTION grants_journal_append_only();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS grants_journalline_no_truncate ON grants_journalline;
DROP TRIGGER IF EXISTS grants_journalentry_no_truncate ON grants_journalentry;
DROP TRIGGER IF EXISTS grants_journalline_same_transaction ON grants_journalline;
DROP TRIGGER IF EXISTS grants_journalentry_stamp_txid ON grants_journalentry;
DROP FUNCTION IF EXISTS grants_journalline_same_transaction();
DROP FUNCTION IF EXISTS grants_journalentry_stamp_txid();
ALTER TABLE grants_journalentry DROP COLUMN IF EXISTS created_txid;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # One script with plpgsql bodies: sent without parameters, as one simple query.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0021_disbursement_outcome_unknown"),
    ]

    operations = [
        migrations.AddField(
            model_name="donation",
            name="void_reason",
            field=models.CharField(blank=True, max_length=300, verbose_name="reason for voiding"),
        ),
        migrations.AddField(
            model_name="donation",
            name="voided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="voided"),
        ),
        migrations.AddField(
            model_name="donation",
            name="voided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="donation",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting for payment"),
                    ("completed", "Received"),
                    ("partially_refunded", "Partially refunded"),
                    ("refunded", "Refunded"),
                    ("disputed", "Disputed"),
                    ("lost_dispute", "Dispute lost"),
                    ("expired", "Not completed"),
                    ("voided", "Void"),
                ],
                default="pending",
                max_length=24,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="fund",
            name="currency",
            field=models.CharField(
                choices=[
                    ("XUA", "ADB Unit of Account"),
                    ("AFN", "Afghan Afghani"),
                    ("AFA", "Afghan Afghani (1927–2002)"),
                    ("ALL", "Albanian Lek"),
                    ("ALK", "Albanian Lek (1946–1965)"),
                    ("DZD", "Algerian Dinar"),
                    ("ADP", "Andorran Peseta"),
                    ("AOA", "Angolan Kwanza"),
                    ("AOK", "Angolan Kwanza (1977–1991)"),
                    ("AON", "Angolan New Kwanza (1990–2000)"),
                    ("AOR", "Angolan Readjusted Kwanza (1995–1999)"),
                    ("ARA", "Argentine Austral"),
                    ("ARS", "Argentine Peso"),
                    ("ARM", "Argentine Peso (1881–1970)"),
                    ("ARP", "Argentine Peso (1983–1985)"),
                    ("ARL", "Argentine Peso Ley (1970–1983)"),
                    ("AMD", "Armenian Dram"),
                    ("AWG", "Aruban Florin"),
                    ("AUD", "Australian Dollar"),
                    ("ATS", "Austrian Schilling"),
                    ("AZN", "Azerbaijani Manat"),
                    ("AZM", "Azerbaijani Manat (1993–2006)"),
                    ("BSD", "Bahamian Dollar"),
                    ("BHD", "Bahraini Dinar"),
                    ("BDT", "Bangladeshi Taka"),
                    ("BBD", "Barbadian Dollar"),
                    ("BYN", "Belarusian Ruble"),
                    ("BYB", "Belarusian Ruble (1994–1999)"),
                    ("BYR", "Belarusian Ruble (2000–2016)"),
                    ("BEF", "Belgian Franc"),
                    ("BEC", "Belgian Franc (convertible)"),
                    ("BEL", "Belgian Franc (financial)"),
                    ("BZD", "Belize Dollar"),
                    ("BMD", "Bermudan Dollar"),
                    ("BTN", "Bhutanese Ngultrum"),
                    ("BOB", "Bolivian Boliviano"),
                    ("BOL", "Bolivian Boliviano (1863–1963)"),
                    ("BOV", "Bolivian Mvdol"),
                    ("BOP", "Bolivian Peso"),
                    ("VED", "Bolívar Soberano"),
                    ("BAM", "Bosnia-Herzegovina Convertible Mark"),
                    ("BAD", "Bosnia-Herzegovina Dinar (1992–1994)"),
                    ("BAN", "Bosnia-Herzegovina New Dinar (1994–1997)"),
                    ("BWP", "Botswanan Pula"),
                    ("BRC", "Brazilian Cruzado (1986–1989)"),
                    ("BRZ", "Brazilian Cruzeiro (1942–1967)"),
                    ("BRE", "Brazilian Cruzeiro (1990–1993)"),
                    ("BRR", "Brazilian Cruzeiro (1993–1994)"),
                    ("BRN", "Brazilian New Cruzado (1989–1990)"),
                    ("BRB", "Brazilian New Cruzeiro (1967–1986)"),
                    ("BRL", "Brazilian Real"),
                    ("GBP", "British Pound"),
                    ("BND", "Brunei Dollar"),
                    ("BGL", "Bulgarian Hard Lev"),
                    ("BGN", "Bulgarian Lev"),
                    ("BGO", "Bulgarian Lev (1879–1952)"),
                    ("BGM", "Bulgarian Socialist Lev"),
                    ("BUK", "Burmese Kyat"),
                    ("BIF", "Burundian Franc"),
                    ("XPF", "CFP Franc"),
                    ("KHR", "Cambodian Riel"),
                    ("CAD", "Canadian Dollar"),
                    ("CVE", "Cape Verdean Escudo"),
                    ("KYD", "Cayman Islands Dollar"),
                    ("XAF", "Central African CFA Franc"),
                    ("CLE", "Chilean Escudo"),
                    ("CLP", "Chilean Peso"),
                    ("CLF", "Chilean Unit of Account (UF)"),
                    ("CNX", "Chinese People’s Bank Dollar"),
                    ("CNY", "Chinese Yuan"),
                    ("CNH", "Chinese Yuan (offshore)"),
                    ("COP", "Colombian Peso"),
                    ("COU", "Colombian Real Value Unit"),
                    ("KMF", "Comorian Franc"),
                    ("CDF", "Congolese Franc"),
                    ("CRC", "Costa Rican Colón"),
                    ("HRD", "Croatian Dinar"),
                    ("HRK", "Croatian Kuna"),
                    ("CUC", "Cuban Convertible Peso"),
                    ("CUP", "Cuban Peso"),
                    ("CYP", "Cypriot Pound"),
                    ("CZK", "Czech Koruna"),
                    ("CSK", "Czechoslovak Hard Koruna"),
                    ("DKK", "Danish Krone"),
                    ("DJF", "Djiboutian Franc"),
                    ("DOP", "Dominican Peso"),
                    ("NLG", "Dutch Guilder"),
                    ("XCD", "East Caribbean Dollar"),
                    ("DDM", "East German Mark"),
                    ("ECS", "Ecuadorian Sucre"),
                    ("ECV", "Ecuadorian Unit of Constant Value"),
                    ("EGP", "Egyptian Pound"),
                    ("GQE", "Equatorial Guinean Ekwele"),
                    ("ERN", "Eritrean Nakfa"),
                    ("EEK", "Estonian Kroon"),
                    ("ETB", "Ethiopian Birr"),
                    ("EUR", "Euro"),
                    ("XBA", "European Composite Unit"),
                    ("XEU", "European Currency Unit"),
                    ("XBB", "European Monetary Unit"),
                    ("XBC", "European Unit of Account (XBC)"),
                    ("XBD", "European Unit of Account (XBD)"),
                    ("FKP", "Falkland Islands Pound"),
                    ("FJD", "Fijian Dollar"),
                    ("FIM", "Finnish Markka"),
                    ("FRF", "French Franc"),
                    ("XFO", "French Gold Franc"),
                    ("XFU", "French UIC-Franc"),
                    ("GMD", "Gambian Dalasi"),
                    ("GEK", "Georgian Kupon Larit"),
                    ("GEL", "Georgian Lari"),
                    ("DEM", "German Mark"),
                    ("GHS", "Ghanaian Cedi"),
                    ("GHC", "Ghanaian Cedi (1979–2007)"),
                    ("GIP", "Gibraltar Pound"),
                    ("XAU", "Gold"),
                    ("GRD", "Greek Drachma"),
                    ("GTQ", "Guatemalan Quetzal"),
                    ("GWP", "Guinea-Bissau Peso"),
                    ("GNF", "Guinean Franc"),
                    ("GNS", "Guinean Syli"),
                    ("GYD", "Guyanaese Dollar"),
                    ("HTG", "Haitian Gourde"),
                    ("HNL", "Honduran Lempira"),
                    ("HKD", "Hong Kong Dollar"),
                    ("HUF", "Hungarian Forint"),
                    ("IMP", "IMP"),
                    ("ISK", "Icelandic Króna"),
                    ("ISJ", "Icelandic Króna (1918–1981)"),
                    ("INR", "Indian Rupee"),
                    ("IDR", "Indonesian Rupiah"),
                    ("IRR", "Iranian Rial"),
                    ("IQD", "Iraqi Dinar"),
                    ("IEP", "Irish Pound"),
                    ("ILS", "Israeli New Shekel"),
                    ("ILP", "Israeli Pound"),
                    ("ILR", "Israeli Shekel (1980–1985)"),
                    ("ITL", "Italian Lira"),
                    ("JMD", "Jamaican Dollar"),
                    ("JPY", "Japanese Yen"),
                    ("JOD", "Jordanian Dinar"),
                    ("KZT", "Kazakhstani Tenge"),
                    ("KES", "Kenyan Shilling"),
                    ("KWD", "Kuwaiti Dinar"),
                    ("KGS", "Kyrgystani Som"),
                    ("LAK", "Laotian Kip"),
                    ("LVL", "Latvian Lats"),
                    ("LVR", "Latvian Ruble"),
                    ("LBP", "Lebanese Pound"),
                    ("LSL", "Lesotho Loti"),
                    ("LRD", "Liberian Dollar"),
                    ("LYD", "Libyan Dinar"),
                    ("LTL", "Lithuanian Litas"),
                    ("LTT", "Lithuanian Talonas"),
                    ("LUL", "Luxembourg Financial Franc"),
                    ("LUC", "Luxembourgian Convertible Franc"),
                    ("LUF", "Luxembourgian Franc"),
                    ("MOP", "Macanese Pataca"),
                    ("MKD", "Macedonian Denar"),
                    ("MKN", "Macedonian Denar (1992–1993)"),
                    ("MGA", "Malagasy Ariary"),
                    ("MGF", "Malagasy Franc"),
                    ("MWK", "Malawian Kwacha"),
                    ("MYR", "Malaysian Ringgit"),
                    ("MVR", "Maldivian Rufiyaa"),
                    ("MVP", "Maldivian Rupee (1947–1981)"),
                    ("MLF", "Malian Franc"),
                    ("MTL", "Maltese Lira"),
                    ("MTP", "Maltese Pound"),
                    ("MRU", "Mauritanian Ouguiya"),
                    ("MRO", "Mauritanian Ouguiya (1973–2017)"),
                    ("MUR", "Mauritian Rupee"),
                    ("MXV", "Mexican Investment Unit"),
                    ("MXN", "Mexican Peso"),
                    ("MXP", "Mexican Silver Peso (1861–1992)"),
                    ("MDC", "Moldovan Cupon"),
                    ("MDL", "Moldovan Leu"),
                    ("MCF", "Monegasque Franc"),
                    ("MNT", "Mongolian Tugrik"),
                    ("MAD", "Moroccan Dirham"),
                    ("MAF", "Moroccan Franc"),
                    ("MZE", "Mozambican Escudo"),
                    ("MZN", "Mozambican Metical"),
                    ("MZM", "Mozambican Metical (1980–2006)"),
                    ("MMK", "Myanmar Kyat"),
                    ("NAD", "Namibian Dollar"),
                    ("NPR", "Nepalese Rupee"),
                    ("ANG", "Netherlands Antillean Guilder"),
                    ("TWD", "New Taiwan Dollar"),
                    ("NZD", "New Zealand Dollar"),
                    ("NIO", "Nicaraguan Córdoba"),
                    ("NIC", "Nicaraguan Córdoba (1988–1991)"),
                    ("NGN", "Nigerian Naira"),
                    ("KPW", "North Korean Won"),
                    ("NOK", "Norwegian Krone"),
                    ("OMR", "Omani Rial"),
                    ("PKR", "Pakistani Rupee"),
                    ("XPD", "Palladium"),
                    ("PAB", "Panamanian Balboa"),
                    ("PGK", "Papua New Guinean Kina"),
                    ("PYG", "Paraguayan Guarani"),
                    ("PEI", "Peruvian Inti"),
                    ("PEN", "Peruvian Sol"),
                    ("PES", "Peruvian Sol (1863–1965)"),
                    ("PHP", "Philippine Peso"),
                    ("XPT", "Platinum"),
                    ("PLN", "Polish Zloty"),
                    ("PLZ", "Polish Zloty (1950–1995)"),
                    ("PTE", "Portuguese Escudo"),
                    ("GWE", "Portuguese Guinea Escudo"),
                    ("QAR", "Qatari Riyal"),
                    ("XRE", "RINET Funds"),
                    ("RHD", "Rhodesian Dollar"),
                    ("RON", "Romanian Leu"),
                    ("ROL", "Romanian Leu (1952–2006)"),
                    ("RUB", "Russian Ruble"),
                    ("RUR", "Russian Ruble (1991–1998)"),
                    ("RWF", "Rwandan Franc"),
                    ("SVC", "Salvadoran Colón"),
                    ("WST", "Samoan Tala"),
                    ("SAR", "Saudi Riyal"),
                    ("RSD", "Serbian Dinar"),
                    ("CSD", "Serbian Dinar (2002–2006)"),
                    ("SCR", "Seychellois Rupee"),
                    ("SLE", "Sierra Leonean Leone"),
                    ("SLL", "Sierra Leonean Leone (1964—2022)"),
                    ("XAG", "Silver"),
                    ("SGD", "Singapore Dollar"),
                    ("SKK", "Slovak Koruna"),
                    ("SIT", "Slovenian Tolar"),
                    ("SBD", "Solomon Islands Dollar"),
                    ("SOS", "Somali Shilling"),
                    ("ZAR", "South African Rand"),
                    ("ZAL", "South African Rand (financial)"),
                    ("KRH", "South Korean Hwan (1953–1962)"),
                    ("KRW", "South Korean Won"),
                    ("KRO", "South Korean Won (1945–1953)"),
                    ("SSP", "South Sudanese Pound"),
                    ("SUR", "Soviet Rouble"),
                    ("ESP", "Spanish Peseta"),
                    ("ESA", "Spanish Peseta (A account)"),
                    ("ESB", "Spanish Peseta (convertible account)"),
                    ("XDR", "Special Drawing Rights"),
                    ("LKR", "Sri Lankan Rupee"),
                    ("SHP", "St. Helena Pound"),
                    ("XSU", "Sucre"),
                    ("SDD", "Sudanese Dinar (1992–2007)"),
                    ("SDG", "Sudanese Pound"),
                    ("SDP", "Sudanese Pound (1957–1998)"),
                    ("SRD", "Surinamese Dollar"),
                    ("SRG", "Surinamese Guilder"),
                    ("SZL", "Swazi Lilangeni"),
                    ("SEK", "Swedish Krona"),
                    ("CHF", "Swiss Franc"),
                    ("SYP", "Syrian Pound"),
                    ("STN", "São Tomé & Príncipe Dobra"),
                    ("STD", "São Tomé & Príncipe Dobra (1977–2017)"),
                    ("TVD", "TVD"),
                    ("TJR", "Tajikistani Ruble"),
                    ("TJS", "Tajikistani Somoni"),
                    ("TZS", "Tanzanian Shilling"),
                    ("XTS", "Testing Currency Code"),
                    ("THB", "Thai Baht"),
                    ("TPE", "Timorese Escudo"),
                    ("TOP", "Tongan Paʻanga"),
                    ("TTD", "Trinidad & Tobago Dollar"),
                    ("TND", "Tunisian Dinar"),
                    ("TRY", "Turkish Lira"),
                    ("TRL", "Turkish Lira (1922–2005)"),
                    ("TMT", "Turkmenistani Manat"),
                    ("TMM", "Turkmenistani Manat (1993–2009)"),
                    ("USD", "US Dollar"),
                    ("USN", "US Dollar (Next day)"),
                    ("USS", "US Dollar (Same day)"),
                    ("UGX", "Ugandan Shilling"),
                    ("UGS", "Ugandan Shilling (1966–1987)"),
                    ("UAH", "Ukrainian Hryvnia"),
                    ("UAK", "Ukrainian Karbovanets"),
                    ("AED", "United Arab Emirates Dirham"),
                    ("UYW", "Uruguayan Nominal Wage Index Unit"),
                    ("UYU", "Uruguayan Peso"),
                    ("UYP", "Uruguayan Peso (1975–1993)"),
                    ("UYI", "Uruguayan Peso (Indexed Units)"),
                    ("UZS", "Uzbekistani Som"),
                    ("VUV", "Vanuatu Vatu"),
                    ("VES", "Venezuelan Bolívar"),
                    ("VEB", "Venezuelan Bolívar (1871–2008)"),
                    ("VEF", "Venezuelan Bolívar (2008–2018)"),
                    ("VND", "Vietnamese Dong"),
                    ("VNN", "Vietnamese Dong (1978–1985)"),
                    ("CHE", "WIR Euro"),
                    ("CHW", "WIR Franc"),
                    ("XOF", "West African CFA Franc"),
                    ("YDD", "Yemeni Dinar"),
                    ("YER", "Yemeni Rial"),
                    ("YUN", "Yugoslavian Convertible Dinar (1990–1992)"),
                    ("YUD", "Yugoslavian Hard Dinar (1966–1990)"),
                    ("YUM", "Yugoslavian New Dinar (1994–2002)"),
                    ("YUR", "Yugoslavian Reformed Dinar (1992–1993)"),
                    ("ZWN", "ZWN"),
                    ("ZRN", "Zairean New Zaire (1993–1998)"),
                    ("ZRZ", "Zairean Zaire (1971–1993)"),
                    ("ZMW", "Zambian Kwacha"),
                    ("ZMK", "Zambian Kwacha (1968–2012)"),
                    ("ZWD", "Zimbabwean Dollar (1980–2008)"),
                    ("ZWR", "Zimbabwean Dollar (2008)"),
                    ("ZWL", "Zimbabwean Dollar (2009–2024)"),
                ],
                default="USD",
                max_length=3,
                validators=[grants.models.funds.validate_fund_currency],
                verbose_name="currency",
            ),
        ),
        migrations.CreateModel(
            name="PaymentReference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("gift_check", "Check received"),
                            ("gift_bank_transfer", "Bank transfer received"),
                            ("gift_cash", "Cash received"),
                            ("grant_payment", "Grant payment by check or bank transfer"),
                        ],
                        max_length=24,
                    ),
                ),
                ("key", models.CharField(max_length=120)),
                ("reference", models.CharField(max_length=120, verbose_name="reference")),
                ("recorded_on", models.DateField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "donation",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="payment_reference",
                        to="grants.donation",
                    ),
                ),
                (
                    "foundation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="grants.foundation"
                    ),
                ),
                (
                    "installment",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="outside_reference",
                        to="grants.installment",
                    ),
                ),
            ],
            options={
                "verbose_name": "payment reference",
                "verbose_name_plural": "payment references",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("foundation", "method", "key"), name="payment_reference_once"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("key", ""), _negated=True), name="payment_reference_not_blank"
                    ),
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
