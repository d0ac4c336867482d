/*
 * addressee: the paragraph finder and splitter over the real statements
 * and over paragraphs written here in other phrasings (the resolver and
 * --apply are test_addressee_plan.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/addressee.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "addressee_texts.h"
#include "testutil.h"

/* One expected addressee: phrase, acronym ("" none), group kind ("" not a
 * group), group country ("" none), ref (-1 none). */
struct want {
	const char *phrase, *acronym, *kind, *country;
	int ref;
};

#define END {NULL, NULL, NULL, NULL, 0}

static const struct want want_2025[] = {
	{"UN Secretary-General", "UNSG", "", "", -1},
	{"UN Security Council", "UNSC", "", "", -1},
	{"UN Office of the High Commissioner for Human Rights", "OHCHR", "", "", -1},
	{"UN High Commissioner for Refugees", "UNHCR", "", "", -1},
	{"UN International Children\xe2\x80\x99s Emergency Fund", "UNICEF", "", "", -1},
	{"UN Educational, Scientific, and Cultural Organization", "UNESCO", "", "", -1},
	{"European Union", "EU", "", "", -1},
	{"Council of Europe", "CoE", "", "", -1},
	{"Organization for Security and Cooperation in Europe", "OSCE", "", "", -1},
	{"International Ombudsman Institution", "IOI", "", "", -1},
	{"European Ombudsman Institution", "EOI", "", "", -1},
	{"Asian Ombudsman Association", "AOA", "", "", -1},
	{"Organization of Islamic Cooperation", "OIC", "", "", -1},
	{"Association of Ombudsman of member states of Organization of "
	 "Islamic Cooperation", "OICOA", "", "", 12},
	{"Association of Ombudsman and National Human Rights Institutions of "
	 "Turkic States", "TURKOMB", "", "", -1},
	{"OIC Independent Permanent Human Rights Commission", "OIC-IPHRC", "", "", -1},
	{"European Network of Ombudspersons of Children", "ENOC", "", "", -1},
	{"International Peace Bureau", "IPB", "", "", -1},
	{"ombudspersons of different countries", "", "ombudsman", "", -1},
	{"national human rights institutions of different countries", "NHRIs",
	 "nhri", "", -1},
	{"diplomatic missions of Azerbaijan in foreign countries", "", "embassy",
	 "AZ", -1},
	{"diplomatic missions of foreign countries in Azerbaijan", "",
	 "foreign-mission", "", -1},
	{"diaspora organizations of Azerbaijan", "", "diaspora-org", "AZ", -1},
	END,
};

static const struct want want_2018[] = {
	{"Secretary-General of the United Nations", "", "", "", -1},
	{"United Nations Security Council", "", "", "", -1},
	{"United Nations High Commissioner for Human Rights", "", "", "", -1},
	{"UNICEF", "", "", "", -1},
	{"European Union", "", "", "", -1},
	{"Council of Europe", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	{"International Ombudsman Institutes", "", "", "", -1},
	{"European Ombudsman Institutes", "", "", "", -1},
	{"Asian Ombudsman Association", "", "", "", -1},
	{"Organization of Islamic Cooperation", "", "", "", -1},
	{"Ombudsman Association of members States of Organization of Islamic "
	 "Cooperation", "", "", "", 10},
	{"European Network of Ombudsmen for Children", "", "", "", -1},
	{"International Peace Bureau", "", "", "", -1},
	{"ombudsmen of different countries", "", "ombudsman", "", -1},
	{"embassies of the Republic of Azerbaijan abroad", "", "embassy", "AZ", -1},
	{"foreign embassies in Azerbaijan", "", "foreign-mission", "", -1},
	{"organizations of the Azerbaijani Diaspora", "", "diaspora-org", "AZ", -1},
	END,
};

/* A permanent mission's letter: the request to circulate it names no
 * addressee; "has also been shared with" does. */
static const struct want want_world_mission_2021[] = {
	{"permanent missions of the member states of the Organisation of Islamic Cooperation in New York", "", "embassy", "", -1},
	{"Permanent Observer Mission of the OIC to the United Nations", "", "", "", -1},
	{"Office of the President of the General Assembly", "", "", "", -1},
	END,
};
/* An NHRI's PDF: running headers with page numbers inside a bulleted
 * list, a name hyphenated across lines, a ligature, a continuation and
 * a signature after it. */
static const struct want want_world_nhri_2023[] = {
	{"UN Working Group on Enforced or Involuntary Disappearances", "WGEID", "", "", -1},
	{"UN Committee on Enforced Disappearances", "CED", "", "", -1},
	{"International Committee of the Red Cross", "ICRC", "", "", -1},
	{"Central Tracing Agency of International Committee of the Red Cross", "", "", "", 2},
	{"Global Alliance of National Human Rights Institutions", "GANHRI", "", "", -1},
	{"Council of Europe Commissioner for Human Rights", "", "", "", -1},
	{"Asia Pacific Forum of National Human Rights Institutions", "APF", "", "", -1},
	{"European Network of National Human Rights Institutions", "ENNHRI", "", "", -1},
	END,
};
/* A web page: a numbered list of bodies named in their own languages,
 * a country in parentheses, a name and its translation after a dash, a
 * seat after a comma, contacts and tags after it. */
static const struct want want_world_mixed_2024[] = {
	{"D\xc3\xa9" "fenseur des droits of France", "", "", "", -1},
	{"Defensor del Pueblo of Espa\xc3\xb1" "a", "", "", "", -1},
	{"Volksanwaltschaft", "", "", "", -1},
	{"Commission nationale consultative des droits de l\xe2\x80\x99homme", "CNCDH", "", "", -1},
	{"\xd0\xa3\xd0\xbf\xd0\xbe\xd0\xbb\xd0\xbd\xd0\xbe\xd0\xbc\xd0\xbe\xd1\x87\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb9 \xd0\xbf\xd0\xbe \xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xb0\xd0\xbc \xd1\x87\xd0\xb5\xd0\xbb\xd0\xbe\xd0\xb2\xd0\xb5\xd0\xba\xd0\xb0 \xd0\xb2 \xd0\xa0\xd0\xbe\xd1\x81\xd1\x81\xd0\xb8\xd0\xb9\xd1\x81\xd0\xba\xd0\xbe\xd0\xb9 \xd0\xa4\xd0\xb5\xd0\xb4\xd0\xb5\xd1\x80\xd0\xb0\xd1\x86\xd0\xb8\xd0\xb8", "", "", "", -1},
	{"International Ombudsman Institute", "IOI", "", "", -1},
	{"European Ombudsman", "", "", "", -1},
	END,
};
/* A ministry's press release: a note verbale sent (active, a long
 * object before "to"), humanitarian aid "sent to the town" before it. */
static const struct want want_world_note_2019[] = {
	{"embassies of foreign countries", "", "foreign-mission", "", -1},
	{"representations of international organizations accredited in Azerbaijan", "", "foreign-mission", "", -1},
	{"Ministries of Foreign Affairs of the OIC member states", "", "", "", -1},
	END,
};

/* Paragraphs written for these tests: other orders, "the" or not,
 * acronyms alone, British spelling, line breaks inside names, hyphenation,
 * page breaks, debris after the paragraph, other triggers. */
static const char variant_besides[] =
	"We remember the victims.\n\n"
	"Besides, the appeal was addressed to the leadership of the\n"
	"Organisation for Security and Co-operation in Europe, UNESCO,\n"
	"OHCHR and UNSG, as well as the Asian Association of Ombudsmen and\n"
	"embassies of foreign states in the country.\n\n"
	"Share this: Facebook | Twitter | Print\n";
static const struct want want_besides[] = {
	{"Organisation for Security and Co-operation in Europe", "", "", "", -1},
	{"UNESCO", "", "", "", -1},
	{"OHCHR", "", "", "", -1},
	{"UNSG", "", "", "", -1},
	{"Asian Association of Ombudsmen", "", "", "", -1},
	{"embassies of foreign states in the country", "", "foreign-mission", "", -1},
	END,
};

static const char variant_hyphen[] =
	"Text of the statement.\n\n"
	"The statement was sent to the United Nations Secretary-\n"
	"General, the Inter-Parliamentary Union (IPU), the Euro-\n"
	"pean Network of Ombudspersons for Children (ENOC), the Organi-\n"
	"\f\n 3 \n"
	"zation of Islamic Cooperation (OIC) and the ombudsmen and na-\n"
	"tional human rights institutions of the member states of this\n"
	"Organization, and Azerbaijani diaspora organisations\n\n"
	"Related news\n";
static const struct want want_hyphen[] = {
	{"United Nations Secretary-General", "", "", "", -1},
	{"Inter-Parliamentary Union", "IPU", "", "", -1},
	{"European Network of Ombudspersons for Children", "ENOC", "", "", -1},
	{"Organization of Islamic Cooperation", "OIC", "", "", -1},
	{"ombudsmen of the member states of Organization of Islamic "
	 "Cooperation", "", "ombudsman", "", 3},
	{"national human rights institutions of the member states of "
	 "Organization of Islamic Cooperation", "", "nhri", "", 3},
	{"Azerbaijani diaspora organisations", "", "diaspora-org", "AZ", -1},
	END,
};

static const char variant_debris[] =
	"The statement has been sent to the UNSG, UNHCR and the OSCE.\n\n"
	"Reader comments (2): This page was sent to 3 friends. Newsletter:\n"
	"subscribe and share.\n";
static const struct want want_debris[] = {
	{"UNSG", "", "", "", -1},
	{"UNHCR", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	END,
};

/* A shared noun after an article: two bodies, not "the International". */
static const char variant_article[] =
	"The statement was addressed to the International and European "
	"Ombudsman Institutes and the European and Asian Ombudsman "
	"Associations.\n";
static const struct want want_article[] = {
	{"International Ombudsman Institutes", "", "", "", -1},
	{"European Ombudsman Institutes", "", "", "", -1},
	{"European Ombudsman Associations", "", "", "", -1},
	{"Asian Ombudsman Associations", "", "", "", -1},
	END,
};

/* Continuations, written for issue 19 as other institutions and years
 * would: a second paragraph, a second sentence, "also" inside the
 * trigger, a clause inside the list, a numbered list whose items end in
 * full stops; each list ends at the place and date or the signature. */
static const char cont_georgia[] =
	"Tbilisi, 2021. The Public Defender of Georgia calls for calm.\n\n"
	"The Public Defender's statement was sent to the UN High\n"
	"Commissioner for Human Rights and the OSCE.\n\n"
	"Besides, the appeal was also sent to the Council of Europe\n"
	"Commissioner for Human Rights and UNICEF.\n\n"
	"Tbilisi, 3 March 2021\n";
static const struct want want_georgia[] = {
	{"UN High Commissioner for Human Rights", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	{"Council of Europe Commissioner for Human Rights", "", "", "", -1},
	{"UNICEF", "", "", "", -1},
	END,
};
static const char cont_ukraine[] =
	"The address of the Commissioner was forwarded to the UN Secretary-"
	"General. Copies were sent to the European Parliament, UNHCR and the "
	"ICRC.\nKyiv, 12 May 2019\nPress service of the Commissioner\n";
static const struct want want_ukraine[] = {
	{"UN Secretary-General", "", "", "", -1},
	{"European Parliament", "", "", "", -1},
	{"UNHCR", "", "", "", -1},
	{"ICRC", "", "", "", -1},
	END,
};
static const char cont_ministry[] =
	"The note was forwarded to UNESCO; it was also forwarded to the OIC "
	"and to the European Union.\n\nBaku, 14 January 2020\n";
static const struct want want_ministry[] = {
	{"UNESCO", "", "", "", -1},
	{"OIC", "", "", "", -1},
	{"European Union", "", "", "", -1},
	END,
};
static const char cont_numbered[] =
	"Press release of the Permanent Mission, 2023.\n"
	"The letter has been circulated to:\n"
	"1. UNHCR.\n"
	"2. UNICEF.\n"
	"3. the International Committee of the Red Cross.\n"
	"\n"
	"In addition, copies have been forwarded to the Inter-Parliamentary\n"
	"Union (IPU).\n"
	"\n"
	"New York, 5 June 2023\n"
	"The letter was sent to 3 newspapers.\n";
static const struct want want_numbered[] = {
	{"UNHCR", "", "", "", -1},
	{"UNICEF", "", "", "", -1},
	{"International Committee of the Red Cross", "", "", "", -1},
	{"Inter-Parliamentary Union", "IPU", "", "", -1},
	END,
};

/* names_and (addressee_texts.h): names with "and" and commas kept whole,
 * a slashed acronym, and a clause after the list that is no addressee. */
static const struct want want_names_and[] = {
	{"Organization for Security and Cooperation in Europe", "", "", "", -1},
	{"International Federation of Red Cross and Red Crescent Societies", "",
	 "", "", -1},
	{"OSCE Office for Democratic Institutions and Human Rights",
	 "OSCE/ODIHR", "", "", -1},
	{"Council of Europe", "", "", "", -1},
	{"Office for Democratic Institutions and Human Rights", "", "", "", -1},
	END,
};

/* Closing paragraphs as other institutions and years write them
 * (the addressee-world cases): other triggers, active and passive. */
static const char world_note_verbale[] =
	"MINISTRY OF FOREIGN AFFAIRS\nPress release No 112/24\n\n"
	"The Ministry has sent the note verbale to the embassies of foreign\n"
	"countries accredited in Baku, the UN Resident Coordinator Office and\n"
	"the ICRC.\n";
static const struct want want_note_verbale[] = {
	{"embassies of foreign countries accredited in Baku", "",
	 "foreign-mission", "", -1},
	{"UN Resident Coordinator Office", "", "", "", -1},
	{"ICRC", "", "", "", -1},
	END,
};
static const char world_among[] =
	"The letter was circulated among the permanent missions to the\n"
	"United Nations in Geneva, the OHCHR and the OIC Group in Geneva.\n";
static const struct want want_among[] = {
	{"permanent missions to the United Nations in Geneva", "",
	 "foreign-mission", "", -1},
	{"OHCHR", "", "", "", -1},
	{"OIC Group in Geneva", "", "", "", -1},
	END,
};
static const char world_distributed[] =
	"A wreath was sent to the memorial.\n\n"
	"The statement was distributed to the UN Secretary-General, the OSCE\n"
	"and UNESCO.\n";
static const char world_attention[] =
	"The report has been brought to the attention of the UN Secretary-\n"
	"General, the OSCE and UNESCO.\n";
static const char world_shared[] =
	"This statement is being shared with the UN Secretary-General, the\n"
	"OSCE and UNESCO.\n\n- 2 -\n";
static const char world_forwarded_copies[] =
	"The Commissioner forwarded copies of the appeal to the UN Secretary-\n"
	"General, the OSCE and UNESCO. Troops were sent to the border.\n";
static const struct want want_sg_osce_unesco[] = {
	{"UN Secretary-General", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	{"UNESCO", "", "", "", -1},
	END,
};

/* Clauses and vague words inside the list name no one; an acronym
 * after "X and the Y (ACR)" is Y's alone; "the Secretary-General and the
 * permanent missions" shares no noun. */
static const char world_appealed[] =
	"Baku, 26 February 2024\n\n"
	"The Ombudsman appealed to the United Nations, the OSCE and the\n"
	"Council of Europe to give a legal assessment of the tragedy.\n";
static const struct want want_appealed[] = {
	{"United Nations", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	{"Council of Europe", "", "", "", -1},
	END,
};
static const char world_request[] =
	"The appeal was sent to UNICEF, UNESCO, the WHO, etc. and to the UN\n"
	"Secretary-General and the OSCE with a request to take urgent\n"
	"measures; to the ICRC and other international organisations.\n";
static const struct want want_request[] = {
	{"UNICEF", "", "", "", -1},
	{"UNESCO", "", "", "", -1},
	{"WHO", "", "", "", -1},
	{"UN Secretary-General", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	{"ICRC", "", "", "", -1},
	END,
};
static const char world_acronym_and[] =
	"Copies of the appeal were sent to\n"
	"UNICEF and the World Health Organization (WHO), UNESCO and UNFPA\n"
	"(UNFPA), the Secretary-General and the permanent missions of the\n"
	"member states of the United Nations.\n";
static const struct want want_acronym_and[] = {
	{"UNICEF", "", "", "", -1},
	{"World Health Organization", "WHO", "", "", -1},
	{"UNESCO", "", "", "", -1},
	{"UNFPA", "UNFPA", "", "", -1},
	{"Secretary-General", "", "", "", -1},
	{"permanent missions of the member states of the United Nations",
	 "", "embassy", "", -1},
	END,
};

/* Lists and lines as PDFs and web pages give them: lettered and
 * inline numbered items, one name a line, a signature or a running
 * header without a blank line, CRLF, ligatures and soft hyphens, a
 * paragraph without a full stop before the next sentence. */
static const char world_lettered[] =
	"The appeal was forwarded to:\n"
	"a. the UN Secretary-General;\n"
	"(b) the OSCE;\n"
	"iii) UNESCO.\n";
static const char world_inline[] =
	"The statement has been sent to: 1. UN Secretary-General; 2. the\n"
	"OSCE; 3) UNESCO.\n";
static const char world_per_line[] =
	"The statement has been sent to:\n"
	"UN Secretary-General\n"
	"the OSCE\n"
	"UNESCO\n"
	"Baku, 26 February 2025\n";
static const char world_signature[] =
	"The Ombudsman's statement has been sent to the UN Secretary-General,\n"
	"the OSCE and UNESCO\n"
	"Press service of the Ombudsman\n"
	"Baku, AZ1000, 40 Uzeyir Hajibeyli str.\n";
static const char world_header[] =
	"The statement has been sent to the UN Secretary-General, the OSCE,\n"
	"Ombudsman of the Republic \xe2\x80\x93 Annual Report 2024        17\n"
	"and UNESCO.\n";
static const char world_crlf[] =
	"The statement has been sent to the UN Secretary-\r\nGeneral, the\r\n"
	"OSCE and\r\nUNESCO\r\n\r\nThe Ombudsman thanks them. Tel. 12 34\r\n";
static const char world_pdf[] =
	"The statement has been sent to the UN Secretary-General, the Of"
	"\xef\xac\x81" "ce of the High Commissioner for Human Rights\n(OHCHR), "
	"the Organisation of Islamic Co\xc2\xad\noperation (OIC) and the\xc2\xa0"
	"Council of Europe\n\n"
	"The Ombudsman also thanked the volunteers. It was a sad day.\n";
static const struct want want_pdf[] = {
	{"UN Secretary-General", "", "", "", -1},
	{"Office of the High Commissioner for Human Rights", "OHCHR", "", "",
	 -1},
	{"Organisation of Islamic Cooperation", "OIC", "", "", -1},
	{"Council of Europe", "", "", "", -1},
	END,
};

/* Words around names: a class made precise ("including", "in
 * particular"), persons before their office, a seat after a comma,
 * "and/or", square brackets, quotation marks, an acronym of two words,
 * a country in parentheses. */
static const char world_including[] =
	"The statement was forwarded to international organisations, including\n"
	"the UN, the UN treaty bodies, in particular the Committee against\n"
	"Torture (CAT), as well as to the ombudsmen of the member states of the\n"
	"OIC.\n";
static const struct want want_including[] = {
	{"UN", "", "", "", -1},
	{"Committee against Torture", "CAT", "", "", -1},
	{"ombudsmen of the member states of the OIC", "", "ombudsman", "",
	 -1},
	END,
};
static const char world_persons[] =
	"The letter has been forwarded to H.E. Mr. Ant\xc3\xb3nio Guterres,\n"
	"Secretary-General of the United Nations, and to Mr. Volker T\xc3\xbcrk,\n"
	"United Nations High Commissioner for Human Rights, the Office of the\n"
	"United Nations High Commissioner for Human Rights, Geneva, and the\n"
	"President of the OSCE PA Ms. Pia Kauma.\n";
static const struct want want_persons[] = {
	{"Secretary-General of the United Nations", "", "", "", -1},
	{"United Nations High Commissioner for Human Rights", "", "", "", -1},
	{"Office of the United Nations High Commissioner for Human Rights",
	 "", "", "", -1},
	{"President of the OSCE PA", "", "", "", -1},
	END,
};
static const char world_marks[] =
	"The appeal was addressed to the ICRC and/or the IFRC, the Organization\n"
	"for Security and Co-operation in Europe [OSCE], the OSCE Parliamentary\n"
	"Assembly (OSCE PA), the \xe2\x80\x9c" "Friends of the Ombudsman\xe2\x80\x9d"
	" network and the\nDefensor del Pueblo (Spain).\n";
static const struct want want_marks[] = {
	{"ICRC", "", "", "", -1},
	{"IFRC", "", "", "", -1},
	{"Organization for Security and Co-operation in Europe", "OSCE", "", "",
	 -1},
	{"OSCE Parliamentary Assembly", "OSCE PA", "", "", -1},
	{"Friends of the Ombudsman network", "", "", "", -1},
	{"Defensor del Pueblo of Spain", "", "", "", -1},
	END,
};

/* Passive triggers with words between the verb and "to", a class
 * before a colon, an acronym before its expansion, a counted group. */
static const char world_by_email[] =
	"The statement was sent by e-mail to the UN Secretary-General, the\n"
	"OSCE and UNESCO.\n";
static const char world_officially[] =
	"The statement has been officially forwarded to the UN Secretary-\n"
	"General, the OSCE and UNESCO.\n";
static const char world_channels[] =
	"The note was transmitted through diplomatic channels to the UN\n"
	"Secretary-General, the OSCE and UNESCO.\n";
static const char world_class_colon[] =
	"The statement was sent to the international organisations: UN\n"
	"Secretary-General, OSCE, UNESCO and others.\n";
static const char world_expansion[] =
	"The statement was sent to the OHCHR (Office of the High Commissioner\n"
	"for Human Rights), 47 ombudsman institutions and UNICEF.\n";
static const struct want want_expansion[] = {
	{"Office of the High Commissioner for Human Rights", "OHCHR", "", "",
	 -1},
	{"47 ombudsman institutions", "", "ombudsman", "", -1},
	{"UNICEF", "", "", "", -1},
	END,
};

/* A letter's copy label with one name a line, a list in parentheses
 * after a general plural, bullets without a space. */
static const char world_cc[] =
	"Dear Colleagues,\n\nPlease find attached the statement.\n\n"
	"Yours sincerely,\nThe Ombudsman\n\n"
	"cc: UN Secretary-General\n    the OSCE\n    UNESCO\n";
static const char world_paren_list[] =
	"The statement has been sent to international organisations (the UN\n"
	"Secretary-General, OSCE, UNESCO) and to ombudsmen of 80 countries.\n";
static const struct want want_paren_list[] = {
	{"UN Secretary-General", "", "", "", -1},
	{"OSCE", "", "", "", -1},
	{"UNESCO", "", "", "", -1},
	{"ombudsmen of 80 countries", "", "ombudsman", "", -1},
	END,
};
static const char world_bullet_tight[] =
	"The statement was sent to:\n\xe2\x80\xa2UN Secretary-General;\n"
	"\xe2\x80\xa2the OSCE;\n\xe2\x80\xa2\tUNESCO.\n";

/* Parentheses as typed: one never closed, a seat inside; a person
 * written after the last office. */
static const char world_parens[] =
	"The statement was sent to the Council of Europe (CoE, Strasbourg),\n"
	"the OSCE (Vienna, UNICEF and to the UN Secretary-General, Mr. Ant"
	"\xc3\xb3nio Guterres.\n";
static const struct want want_parens[] = {
	{"Council of Europe", "CoE", "", "", -1},
	{"OSCE Vienna", "", "", "", -1},
	{"UNICEF", "", "", "", -1},
	{"UN Secretary-General", "", "", "", -1},
	END,
};

/* A hyphen at a line end after a prefix is a real one. */
static const char world_prefix[] =
	"The statement was sent to the co-\nchairs of the OSCE Minsk Group, the\n"
	"non-\ngovernmental organisation Human Rights Watch and the Inter-\n"
	"national Ombuds\xc2\xad\nman Institute.\n";
static const struct want want_prefix[] = {
	{"co-chairs of the OSCE Minsk Group", "", "", "", -1},
	{"non-governmental organisation Human Rights Watch", "", "", "", -1},
	{"International Ombudsman Institute", "", "", "", -1},
	END,
};

/* News copy names the holder after the office without an honorific;
 * body names that end in capitalised words stay whole. */
static const char world_holders[] =
	"The statement was sent to UN Secretary-General Ant\xc3\xb3nio Guterres,\n"
	"OSCE Secretary General (SG) Helga Maria Schmid, the European Ombudsman\n"
	"Emily O'Reilly, the International Ombudsman Institute Board, Human\n"
	"Rights Watch and the Kofi Annan Foundation.\n";
static const struct want want_holders[] = {
	{"UN Secretary-General", "", "", "", -1},
	{"OSCE Secretary General", "SG", "", "", -1},
	{"European Ombudsman", "", "", "", -1},
	{"International Ombudsman Institute Board", "", "", "", -1},
	{"Human Rights Watch", "", "", "", -1},
	{"Kofi Annan Foundation", "", "", "", -1},
	END,
};

/* A piece of the list that is a sentence of its own, a bare "and"
 * left by a bullet, "respectively". */
static const char world_sentence_piece[] =
	"The appeal was sent to:\n\xe2\x80\xa2 the UN Secretary-General,\n"
	"\xe2\x80\xa2 the OSCE, and\n\xe2\x80\xa2 UNESCO respectively, and the "
	"Ombudsman also\ncalled on the ICRC to act.\n";

/* A clause of circumstance after a name ends at ", and to". */
static const char world_occasion[] =
	"On 26 February 2024 letters were sent to the UN Secretary-General\n"
	"in connection with the anniversary, and to the OSCE on the occasion\n"
	"of the remembrance day, as well as to UNESCO regarding the archives.\n";

/* The diplomatic corps is the foreign missions here. */
static const char world_corps[] =
	"The Public Defender's statement was sent to the diplomatic corps\n"
	"accredited in Georgia and to the ombudsman institutions of the Council\n"
	"of Europe member states.\n";
static const struct want want_corps[] = {
	{"diplomatic corps accredited in Georgia", "", "foreign-mission", "",
	 -1},
	{"ombudsman institutions of the Council of Europe member states", "",
	 "ombudsman", "", -1},
	END,
};

static void check_list(const char *what, const struct addressee_list *l,
		       const struct want *w)
{
	size_t n = 0;
	bool bad = false;

	while (w[n].phrase)
		n++;
	for (size_t i = 0; i < l->count || i < n; i++) {
		const struct addressee *a = i < l->count ? &l->items[i] : NULL;
		const struct want *e = i < n ? &w[i] : NULL;
		bool ok = a && e && strcmp(a->phrase, e->phrase) == 0 &&
			  strcmp(a->acronym ? a->acronym : "", e->acronym) == 0 &&
			  strcmp(a->group ? a->group_kind : "", e->kind) == 0 &&
			  strcmp(a->group_country ? a->group_country : "",
				 e->country) == 0 &&
			  a->ref == e->ref;

		if (!ok) {
			bad = true;
			print_message("%s #%zu: got [%s|%s|%s|%s|%d] want "
				      "[%s|%s|%s|%s|%d]\n", what, i,
				      a ? a->phrase : "-",
				      a && a->acronym ? a->acronym : "",
				      a && a->group ? a->group_kind : "",
				      a && a->group_country ? a->group_country : "",
				      a ? a->ref : 0, e ? e->phrase : "-",
				      e ? e->acronym : "", e ? e->kind : "",
				      e ? e->country : "", e ? e->ref : 0);
		}
	}
	if (bad)
		fail_msg("%s: addressees differ (above)", what);
}

static void test_real_statements(void **state)
{
	static const struct {
		const char *file;
		const struct want *want;
	} cases[] = {
		{"ombudsman-2025-khojaly-33rd.txt", want_2025},
		{"ombudsman-2018-khojaly-26th.txt", want_2018},
		{"variant-2025-hyphenated-pagebreak.txt", want_2025},
		{"world-2021-mission-un.txt", want_world_mission_2021},
		{"world-2023-nhri-pdf.txt", want_world_nhri_2023},
		{"world-2024-ombudsman-mixed.txt", want_world_mixed_2024},
		{"world-2019-ministry-note.txt", want_world_note_2019},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		size_t len;
		char *text = read_statement(cases[i].file, &len);

		if (addressee_parse(text, len, NULL, NULL, &l, &err))
			fail_msg("%s: %s", cases[i].file, err.msg);
		check_list(cases[i].file, &l, cases[i].want);
		addressee_list_release(&l);
		free(text);
	}
}

static void test_variants(void **state)
{
	static const struct {
		const char *name, *text;
		const struct want *want;
	} cases[] = {
		{"besides", variant_besides, want_besides},
		{"hyphen", variant_hyphen, want_hyphen},
		{"debris", variant_debris, want_debris},
		{"article", variant_article, want_article},
		{"georgia", cont_georgia, want_georgia},
		{"ukraine", cont_ukraine, want_ukraine},
		{"ministry", cont_ministry, want_ministry},
		{"numbered", cont_numbered, want_numbered},
		{"names with and", names_and, want_names_and},
		{"note verbale", world_note_verbale, want_note_verbale},
		{"circulated among", world_among, want_among},
		{"distributed", world_distributed, want_sg_osce_unesco},
		{"attention of", world_attention, want_sg_osce_unesco},
		{"shared with", world_shared, want_sg_osce_unesco},
		{"forwarded copies", world_forwarded_copies,
		 want_sg_osce_unesco},
		{"appealed to", world_appealed, want_appealed},
		{"with a request", world_request, want_request},
		{"acronym after and", world_acronym_and, want_acronym_and},
		{"lettered", world_lettered, want_sg_osce_unesco},
		{"inline numbers", world_inline, want_sg_osce_unesco},
		{"one name a line", world_per_line, want_sg_osce_unesco},
		{"signature", world_signature, want_sg_osce_unesco},
		{"running header", world_header, want_sg_osce_unesco},
		{"crlf", world_crlf, want_sg_osce_unesco},
		{"pdf", world_pdf, want_pdf},
		{"including", world_including, want_including},
		{"persons", world_persons, want_persons},
		{"marks", world_marks, want_marks},
		{"by e-mail", world_by_email, want_sg_osce_unesco},
		{"officially", world_officially, want_sg_osce_unesco},
		{"channels", world_channels, want_sg_osce_unesco},
		{"class before a colon", world_class_colon, want_sg_osce_unesco},
		{"expansion", world_expansion, want_expansion},
		{"cc label", world_cc, want_sg_osce_unesco},
		{"list in parentheses", world_paren_list, want_paren_list},
		{"tight bullets", world_bullet_tight, want_sg_osce_unesco},
		{"parentheses", world_parens, want_parens},
		{"hyphen after a prefix", world_prefix, want_prefix},
		{"holders named after the office", world_holders, want_holders},
		{"a sentence in the list", world_sentence_piece,
		 want_sg_osce_unesco},
		{"clauses of circumstance", world_occasion, want_sg_osce_unesco},
		{"diplomatic corps", world_corps, want_corps},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;

		if (addressee_parse(cases[i].text, strlen(cases[i].text), NULL,
				    NULL, &l, &err))
			fail_msg("%s: %s", cases[i].name, err.msg);
		check_list(cases[i].name, &l, cases[i].want);
		addressee_list_release(&l);
	}
}

/* The lines the passage was read from, as the plan shows them. */
static void test_passage_lines(void **state)
{
	static const struct {
		const char *name, *text;
		size_t first, last, sentences;
	} cases[] = {
		{"georgia", cont_georgia, 3, 7, 2},
		{"ukraine", cont_ukraine, 1, 1, 2},
		{"ministry", cont_ministry, 1, 1, 1},
		{"numbered", cont_numbered, 2, 8, 2},
		{"debris", variant_debris, 1, 1, 1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		const struct addressee_passage *w = &l.passage;

		if (addressee_parse(cases[i].text, strlen(cases[i].text), NULL,
				    NULL, &l, &err))
			fail_msg("%s: %s", cases[i].name, err.msg);
		if (w->first_line != cases[i].first ||
		    w->last_line != cases[i].last ||
		    w->sentences != cases[i].sentences)
			fail_msg("%s: read lines %zu-%zu (%zu sentences), want "
				 "%zu-%zu (%zu)", cases[i].name, w->first_line,
				 w->last_line, w->sentences, cases[i].first,
				 cases[i].last, cases[i].sentences);
		addressee_list_release(&l);
	}
}

/* A known-name callback keeps a name with "and" or commas whole. */
static bool known_osce(const char *name, void *arg)
{
	(void)arg;
	return strcmp(name, "Organisation for Security and Co-operation in "
			    "Europe") == 0 ||
	       strcmp(name, "the leadership of the Organisation for Security "
			    "and Co-operation in Europe") == 0;
}

static void test_known_keeps_names_whole(void **state)
{
	struct addressee_list l = {0};
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(addressee_parse(variant_besides,
					 strlen(variant_besides), known_osce,
					 NULL, &l, &err), 0);
	assert_true(l.count >= 1);
	assert_str(l.items[0].phrase,
		   "Organisation for Security and Co-operation in Europe");
	assert_int_equal(l.count, 6);
	addressee_list_release(&l);
}

/* A paragraph of thousands of addressees keeps every one of them: the
 * splitter once kept the first 512 and the paragraph finder cut the
 * sentence after 16 KiB (mid-name), both without a word. */
static void test_long_paragraph_keeps_every_addressee(void **state)
{
	static const struct {
		size_t n;
		bool acronyms;
	} cases[] = {{513, false}, {1200, false}, {5000, false},
		     {2000, true}};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		struct sbuf text = SBUF_INIT;
		char want[64];

		sbuf_addstr(&text, "Preamble.\n\nThe statement has been sent "
				   "to ");
		for (size_t k = 0; k < cases[i].n; k++) {
			if (k)
				sbuf_addstr(&text, k + 1 == cases[i].n
							   ? " and "
							   : ", ");
			if (cases[i].acronyms)
				sbuf_addf(&text, "Office of Town %zu (OT%zuX)",
					  k, k);
			else
				sbuf_addf(&text, "Office of Town %zu", k);
		}
		sbuf_addstr(&text, ".\n");
		if (addressee_parse(text.buf, text.len, NULL, NULL, &l, &err))
			fail_msg("%zu: %s", cases[i].n, err.msg);
		if (l.count != cases[i].n)
			fail_msg("%zu addressees%s: got %zu", cases[i].n,
				 cases[i].acronyms ? " with acronyms" : "",
				 l.count);
		for (size_t k = 0; k < l.count; k++) {
			snprintf(want, sizeof(want), "Office of Town %zu", k);
			if (strcmp(l.items[k].phrase, want) != 0)
				fail_msg("%zu: item %zu is '%s', want '%s'",
					 cases[i].n, k, l.items[k].phrase, want);
		}
		addressee_list_release(&l);
		sbuf_release(&text);
	}
}

/* A 20 MB statement (prose, page debris, stray triggers, then the
 * passage with a continuation) and a passage of 5,000 addressees with
 * "and" inside names: each is read whole. This times nothing (the lead
 * checks speed); a quadratic pass would make it run for minutes. */
static void test_large_inputs(void **state)
{
	struct addressee_list l = {0};
	struct error err = ERROR_INIT;
	struct sbuf text = SBUF_INIT;

	(void)state;
	while (text.len < 20u << 20)
		sbuf_addstr(&text, "The Office for Security and Cooperation of "
				   "Town and Country said it was sent to the "
				   "Mayor. It met on Monday.\n - 3 -\n");
	sbuf_addstr(&text, "\nThe statement was sent to the OSCE and UNICEF."
			   "\nCopies were sent to the Office for Democratic "
			   "Institutions and Human Rights.\n");
	if (addressee_parse(text.buf, text.len, NULL, NULL, &l, &err))
		fail_msg("20 MB: %s", err.msg);
	assert_int_equal(l.count, 3);
	assert_str(l.items[2].phrase,
		   "Office for Democratic Institutions and Human Rights");
	addressee_list_release(&l);
	sbuf_reset(&text);
	sbuf_addstr(&text, "The statement has been sent to ");
	for (size_t k = 0; k < 5000; k++)
		sbuf_addf(&text, "%sthe Office for Town Affairs and Rights %zu",
			  k ? (k % 2 ? ", " : ". Copies were also sent to ")
			    : "", k);
	sbuf_addstr(&text, ".\n");
	if (addressee_parse(text.buf, text.len, NULL, NULL, &l, &err))
		fail_msg("5000: %s", err.msg);
	assert_int_equal(l.count, 5000);
	assert_int_equal(l.passage.sentences, 2500);
	assert_str(l.items[4999].phrase, "Office for Town Affairs and Rights 4999");
	addressee_list_release(&l);
	sbuf_release(&text);
}

static void test_bad_texts(void **state)
{
	static const struct {
		const char *name, *text;
		size_t len;
		const char *msg;
	} cases[] = {
		{"empty", "", 0, "empty"},
		{"blank", " \n\t\n", 4, "empty"},
		{"binary", "The statement has been sent to\0UNSG.", 36, "NUL"},
		{"invalid utf-8", "The statement has been sent to \xc3\x28 UNSG.",
		 37, "UTF-8"},
		{"no paragraph", "A letter addressed to the Secretary-General.",
		 44, "no addressee paragraph"},
		{"nobody", "The statement has been sent to .", 32,
		 "names no addressee"},
		/* triggers in narrative that name no one */
		{"narrative", "Convoys were sent to the region and teams were "
		 "dispatched to the town. Troops sent to the border.", 97,
		 "no addressee paragraph"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		int rc = addressee_parse(cases[i].text, cases[i].len, NULL, NULL,
					 &l, &err);

		if (rc != ERR_DATA || !strstr(err.msg, cases[i].msg))
			fail_msg("%s: got %d '%s', want ERR_DATA '%s'",
				 cases[i].name, rc, err.msg, cases[i].msg);
		assert_int_equal(l.count, 0);
		addressee_list_release(&l);
	}
}

static void test_context_statements_have_no_paragraph(void **state)
{
	static const char *const files[] = {
		"mission-un-2024-press-release.txt",
		"ombudsman-2026-khojaly-news.txt",
		"variant-no-paragraph.txt",
		"world-2022-no-addressees.txt", /* triggers that name no one */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		size_t len;
		char *text = read_statement(files[i], &len);

		assert_int_equal(addressee_parse(text, len, NULL, NULL, &l, &err),
				 ERR_DATA);
		assert_non_null(strstr(err.msg, "no addressee paragraph"));
		addressee_list_release(&l);
		free(text);
	}
}

static void test_guess_kind(void **state)
{
	static const struct {
		const char *phrase, *kind;
	} cases[] = {
		{"Embassy of Azerbaijan in Paris", "embassy"},
		{"Permanent Mission of Azerbaijan to the United Nations", "embassy"},
		{"foreign embassies in Azerbaijan", "foreign-mission"},
		{"Azerbaijani diaspora organisation of Berlin", "diaspora-org"},
		{"Ombudsman of Georgia", "ombudsman"},
		{"Association of Mediterranean Ombudsmen", "ombudsman-assoc"},
		{"African Ombudsman and Mediators Association", "ombudsman-assoc"},
		{"National Human Rights Commission of Korea", "nhri"},
		{"Danish national human rights institute", "nhri"},
		{"UN Human Rights Council", "un-organ"},
		{"United Nations General Assembly", "un-organ"},
		{"UN Population Fund", "un-agency"},
		{"International Peace Bureau", "ngo"},
		{"International Committee of the Red Cross", "ngo"},
		{"League of Arab States", "regional-org"},
		{"Organization of Turkic States", "regional-org"},
		{"Mr John Smith", "other"},
		/* issue 19: national ombudsmen by their many titles */
		{"Public Defender of Georgia", "ombudsman"},
		{"Defensor del Pueblo of Spain", "ombudsman"},
		{"Human Rights Defender of the Republic of Armenia", "ombudsman"},
		{"Commissioner for Human Rights of the Republic of Poland",
		 "ombudsman"},
		{"Ukrainian Parliament Commissioner for Human Rights", "ombudsman"},
		{"People's Advocate of the Republic of Moldova", "ombudsman"},
		{"Ombudsman Institution of Bosnia and Herzegovina", "ombudsman"},
		{"European Ombudsman", "ombudsman"},
		/* ... but not the Council of Europe's or the UN's */
		{"Council of Europe Commissioner for Human Rights", "regional-org"},
		{"UN High Commissioner for Human Rights", "un-agency"},
		/* associations, networks and forums of ombudsmen or NHRIs */
		{"European Ombudsman Institute", "ombudsman-assoc"},
		{"International Ombudsman Institution", "ombudsman-assoc"},
		{"Federation of Ibero-American Ombudsmen", "ombudsman-assoc"},
		{"Asia Pacific Forum of National Human Rights Institutions",
		 "ombudsman-assoc"},
		{"European Network of National Human Rights Institutions",
		 "ombudsman-assoc"},
		{"Global Alliance of National Human Rights Institutions",
		 "ombudsman-assoc"},
		/* NHRIs, and the regional commissions that are not */
		{"National Human Rights Commission of Mongolia", "nhri"},
		{"Scottish Human Rights Commission", "nhri"},
		{"German Institute for Human Rights", "nhri"},
		{"OIC Independent Permanent Human Rights Commission",
		 "regional-org"},
		{"Inter-American Commission on Human Rights", "regional-org"},
		/* missions */
		{"Embassy of Lithuania in Kyiv", "embassy"},
		{"Permanent Representation of Italy to the EU", "embassy"},
		{"OSCE Mission to Skopje", "regional-org"},
		{"UN Assistance Mission in Afghanistan", "un-agency"},
		{"embassies accredited in Yerevan", "foreign-mission"},
		/* the UN's organs and agencies, treaty bodies without "UN" */
		{"Committee on the Elimination of Racial Discrimination",
		 "un-organ"},
		{"UN Special Rapporteur on the situation of human rights "
		 "defenders", "un-organ"},
		{"World Health Organization", "un-agency"},
		{"International Federation of Red Cross and Red Crescent "
		 "Societies", "ngo"},
		{"Council of the European Union", "regional-org"},
		/* names in their own languages (the world cases) */
		{"D\xc3\xa9" "fenseur des droits of France", "ombudsman"},
		{"\xd0\xa3\xd0\xbf\xd0\xbe\xd0\xbb\xd0\xbd\xd0\xbe\xd0\xbc\xd0\xbe\xd1\x87\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb9 \xd0\xbf\xd0\xbe \xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xb0\xd0\xbc \xd1\x87\xd0\xb5\xd0\xbb\xd0\xbe\xd0\xb2\xd0\xb5\xd0\xba\xd0\xb0 \xd0\xb2 \xd0\xa0\xd0\xbe\xd1\x81\xd1\x81\xd0\xb8\xd0\xb9\xd1\x81\xd0\xba\xd0\xbe\xd0\xb9 \xd0\xa4\xd0\xb5\xd0\xb4\xd0\xb5\xd1\x80\xd0\xb0\xd1\x86\xd0\xb8\xd0\xb8", "ombudsman"},
		{"Volksanwalt of Tyrol", "ombudsman"},
		{"Commission nationale consultative des droits de l'homme",
		 "nhri"},
		{"Office of the President of the General Assembly", "un-organ"},
		/* one state's own institutions */
		{"Parliament of Georgia", "other"},
		{"Permanent Representative of Georgia to the UN", "embassy"},
	};
	(void)state;
	bool bad = false;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *cue, *why;
		const char *got = addressee_propose_kind(cases[i].phrase, &cue,
							 &why);

		if (strcmp(got, cases[i].kind) != 0) {
			bad = true;
			print_message("%s: got %s (cue '%s'), want %s\n",
				      cases[i].phrase, got, cue ? cue : "-",
				      cases[i].kind);
		}
		assert_str(addressee_guess_kind(cases[i].phrase), got);
	}
	if (bad)
		fail_msg("kinds differ (above)");
}

/* "the ombudsmen of the OIC member states" takes the plain group, and
 * says that membership is not known; no other row warns. */
static void test_membership_warning(void **state)
{
	struct addressee_list l = {0};
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(addressee_parse(groups, strlen(groups), NULL, NULL, &l,
					 &err), 0);
	assert_int_equal(l.count, 7);
	for (size_t i = 0; i < l.count; i++)
		if ((i == 4) != (l.items[i].warning != NULL))
			fail_msg("#%zu '%s': warning '%s'", i, l.items[i].phrase,
				 l.items[i].warning ? l.items[i].warning : "-");
	assert_non_null(strstr(l.items[4].warning, "member states"));
	addressee_list_release(&l);
}
/* --paragraph N and --from TEXT: the passage a person points at is read,
 * not the one that lists the most; lines are counted from the top. */
static const char pointed[] =
	"Warsaw, 2020.\n"                                     /* 1 */
	"\n"
	"The report was sent to the UNSG, UNHCR, UNICEF and\n" /* 3 */
	"the OSCE.\n"
	"\n"
	"Addressees of the annex: the Council of Europe and\n" /* 6 */
	"the European Union.\n"
	"\n"
	"A summary was sent to the European Parliament.\n"     /* 9 */
	"Copies were also sent to UNESCO.\n";

static void test_parse_at(void **state)
{
	static const struct {
		const char *how;
		size_t paragraph;
		const char *from;
		const char *first, *last;
		size_t count, first_line, last_line;
	} cases[] = {
		{"no pointer", 0, NULL, "UNSG", "OSCE", 4, 3, 4},
		{"paragraph 2", 2, NULL, "UNSG", "OSCE", 4, 3, 4},
		{"paragraph 3 (no trigger)", 3, NULL, "Council of Europe",
		 "European Union", 2, 6, 7},
		{"paragraph 4 and its continuation", 4, NULL,
		 "European Parliament", "UNESCO", 2, 9, 10},
		{"from a name", 0, "UNHCR", "UNHCR", "OSCE", 3, 3, 4},
		{"from across a line break", 0, "UNICEF and the OSCE", "UNICEF",
		 "OSCE", 2, 3, 4},
		{"from a trigger", 0, "A summary", "European Parliament",
		 "UNESCO", 2, 9, 10},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addressee_list l = {0};
		struct error err = ERROR_INIT;
		size_t start = 0, len = strlen(pointed);
		int rc = 0;

		if (cases[i].paragraph)
			rc = addressee_locate_paragraph(pointed, len,
							cases[i].paragraph,
							&start, &err);
		else if (cases[i].from)
			rc = addressee_locate_text(pointed, len, cases[i].from,
						   &start, &err);
		if (rc == 0)
			rc = cases[i].paragraph || cases[i].from
				     ? addressee_parse_at(pointed, len, start,
							  NULL, NULL, &l, &err)
				     : addressee_parse(pointed, len, NULL, NULL,
						       &l, &err);
		if (rc)
			fail_msg("%s: %s", cases[i].how, err.msg);
		if (l.count != cases[i].count ||
		    strcmp(l.items[0].phrase, cases[i].first) != 0 ||
		    strcmp(l.items[l.count - 1].phrase, cases[i].last) != 0 ||
		    l.passage.first_line != cases[i].first_line ||
		    l.passage.last_line != cases[i].last_line)
			fail_msg("%s: got %zu addressees '%s'..'%s' lines "
				 "%zu-%zu, want %zu '%s'..'%s' lines %zu-%zu",
				 cases[i].how, l.count, l.items[0].phrase,
				 l.items[l.count - 1].phrase,
				 l.passage.first_line, l.passage.last_line,
				 cases[i].count, cases[i].first, cases[i].last,
				 cases[i].first_line, cases[i].last_line);
		addressee_list_release(&l);
	}
}

/* Pointing at what is not there is one line naming it. */
static void test_locate_errors(void **state)
{
	struct error err = ERROR_INIT;
	size_t start = 99, len = strlen(pointed);

	(void)state;
	assert_int_equal(addressee_locate_paragraph(pointed, len, 5, &start,
						    &err), ERR_USAGE);
	assert_str(err.msg, "--paragraph 5 is out of range: the text has 4 "
			    "paragraphs");
	assert_int_equal(addressee_locate_text(pointed, len, "the UN Human "
					       "Rights Council", &start, &err),
			 ERR_DATA);
	assert_str(err.msg, "--from 'the UN Human Rights Council' does not "
			    "occur in the text");
	assert_int_equal(addressee_locate_text(pointed, len, "  ", &start,
					       &err), ERR_USAGE);
	assert_int_equal(start, 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_statements),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_passage_lines),
		cmocka_unit_test(test_known_keeps_names_whole),
		cmocka_unit_test(test_long_paragraph_keeps_every_addressee),
		cmocka_unit_test(test_large_inputs),
		cmocka_unit_test(test_bad_texts),
		cmocka_unit_test(test_context_statements_have_no_paragraph),
		cmocka_unit_test(test_guess_kind),
		cmocka_unit_test(test_membership_warning),
		cmocka_unit_test(test_parse_at),
		cmocka_unit_test(test_locate_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
